"""OpenAI figures: the per-request cost of the fake's embeddings beside a chat completion, through the real SDK.

    uv run python bench/openai_embeddings.py [--requests 100] [--rounds 5]

Figures, never assertions: medians over rounds of sequential requests after a warm-up (bench/openai_fake.py's
method), for one text with each model's size, a shortened vector, a batch of 100 texts, and the SDK's default
base64 beside floats.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openai_fake import KEY, ROOT, _sync_rounds  # bench/openai_fake.py: this script's folder is on sys.path

CASES = {
    "chat completion (for comparison)": ("chat", {}),
    "text-embedding-3-small, 1 text (base64, the SDK's default)": ("embed", {"model": "text-embedding-3-small", "input": "Hello"}),
    "text-embedding-3-small, 1 text (float)": ("embed", {"model": "text-embedding-3-small", "input": "Hello", "encoding_format": "float"}),
    "text-embedding-3-large, 1 text": ("embed", {"model": "text-embedding-3-large", "input": "Hello"}),
    "text-embedding-3-large, dimensions=256": ("embed", {"model": "text-embedding-3-large", "input": "Hello", "dimensions": 256}),
    "text-embedding-3-small, batch of 100 texts": ("embed", {"model": "text-embedding-3-small", "input": [f"text {i}" for i in range(100)]}),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    import openai

    sys.path.insert(0, str(Path(ROOT) / "fixtures"))
    from narrative_fixtures.services.openai.fake.server import FakeOpenAIServer

    fake = FakeOpenAIServer().start()
    try:
        with openai.OpenAI(base_url=fake.url, api_key=KEY) as client:
            for label, (kind, body) in CASES.items():
                if kind == "chat":
                    call = lambda: client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hello"}])  # noqa: E731
                else:
                    call = lambda body=body: client.embeddings.create(**body)  # noqa: E731
                requests = max(5, options.requests // 20) if "batch" in label else options.requests
                print(f"{label:62s} {1000 * _sync_rounds(call, requests, options.rounds):8.2f} ms/request")
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
