"""OpenAI figures: the fake's cold start, per-request overhead through the real SDK (chat completions and the
Responses API side by side), and per-test fixture cost.

    uv run python bench/openai_fake.py [--requests 200] [--rounds 5] [--tests 100]

Figures, never assertions. Cold starts run in fresh interpreters (imports as cold as in a real run); request
figures are medians over rounds of sequential requests after a warm-up, with the raw-HTTP cost beside the SDK's so
the fake's own share is visible; per-test figures subtract an empty async test run the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from timing import run_timed  # bench/timing.py: this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
HELLO = [{"role": "user", "content": "Hello"}]
KEY = "sk-test-key-for-mocking"

COLD_PROBE = """
import json, time
began = time.perf_counter()
from narrative_fixtures.services.openai.fake.server import FakeOpenAIServer
imported = time.perf_counter()
fake = FakeOpenAIServer().start()
ready = time.perf_counter()
import openai
client = openai.OpenAI(base_url=fake.url, api_key="sk-test-key-for-mocking")
client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hello"}])
first = time.perf_counter()
fake.stop()
print(json.dumps({"import_s": imported - began, "start_s": ready - imported, "first_call_s": first - began}))
"""

PER_TEST = {
    "empty async test": """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_empty(n):
    pass
""",
    "openai_server + openai_client, 1 request": """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_fake(openai_server, openai_client, n):
    openai_server.reply("ok")
    await openai_client.chat.completions.create(model="gpt-4", messages=[{{"role": "user", "content": "hi"}}])
""",
    "mock_openai, 1 call": """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_mock(mock_openai, n):
    await mock_openai.client.chat.completions.create(model="gpt-4", messages=[{{"role": "user", "content": "hi"}}])
""",
}


def cold_start(repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", COLD_PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def _async_rounds(fake, requests: int, rounds: int, api: str = "chat", stream: bool = False) -> float:
    import openai

    async with openai.AsyncOpenAI(base_url=fake.url, api_key=KEY) as client:
        async def one():
            if api == "responses":
                answer = await client.responses.create(model="gpt-4o", input="Hello", stream=stream)
            else:
                answer = await client.chat.completions.create(model="gpt-4", messages=HELLO, stream=stream)
            if stream:
                async for _ in answer:
                    pass

        for _ in range(10):
            await one()
        timings = []
        for _ in range(rounds):
            began = time.perf_counter()
            for _ in range(requests):
                await one()
            timings.append((time.perf_counter() - began) / requests)
    return statistics.median(timings)


def _sync_rounds(call, requests: int, rounds: int) -> float:
    for _ in range(10):
        call()
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(requests):
            call()
        timings.append((time.perf_counter() - began) / requests)
    return statistics.median(timings)


def per_request(requests: int, rounds: int) -> dict:
    import httpx
    import openai

    sys.path.insert(0, str(ROOT / "fixtures"))
    from narrative_fixtures.services.openai.fake.server import FakeOpenAIServer

    fake = FakeOpenAIServer().start()
    figures = {}
    try:
        body = {"model": "gpt-4", "messages": HELLO}
        with httpx.Client(base_url=fake.url, headers={"authorization": f"Bearer {KEY}"}) as raw:
            figures["raw HTTP (httpx, keep-alive)"] = _sync_rounds(lambda: raw.post("/chat/completions", json=body), requests, rounds)
        with openai.OpenAI(base_url=fake.url, api_key=KEY) as client:
            figures["SDK OpenAI (sync)"] = _sync_rounds(
                lambda: client.chat.completions.create(model="gpt-4", messages=HELLO), requests, rounds
            )
        figures["SDK AsyncOpenAI"] = asyncio.run(_async_rounds(fake, requests, rounds))
        figures["SDK AsyncOpenAI, streamed (9 chunks + [DONE])"] = asyncio.run(_async_rounds(fake, requests, rounds, stream=True))
        with httpx.Client(base_url=fake.url, headers={"authorization": f"Bearer {KEY}"}) as raw:
            figures["Responses: raw HTTP (httpx, keep-alive)"] = _sync_rounds(
                lambda: raw.post("/responses", json={"model": "gpt-4o", "input": "Hello"}), requests, rounds
            )
        with openai.OpenAI(base_url=fake.url, api_key=KEY) as client:
            figures["Responses: SDK OpenAI (sync)"] = _sync_rounds(
                lambda: client.responses.create(model="gpt-4o", input="Hello"), requests, rounds
            )
        figures["Responses: SDK AsyncOpenAI"] = asyncio.run(_async_rounds(fake, requests, rounds, "responses"))
        figures["Responses: SDK AsyncOpenAI, streamed (17 events)"] = asyncio.run(
            _async_rounds(fake, requests, rounds, "responses", stream=True)
        )
    finally:
        began = time.perf_counter()
        fake.stop()
        figures["stop"] = time.perf_counter() - began
    return figures


def per_test(tests: int) -> dict:
    figures = {}
    with tempfile.TemporaryDirectory() as workdir:
        Path(workdir, "pytest.ini").write_text(
            "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        )
        for name, source in PER_TEST.items():
            Path(workdir, "test_bench.py").write_text(textwrap.dedent(source.format(n=tests)))
            durations = sorted(run_timed(Path(workdir), "test_bench.py", {}))[1:]  # the first test pays the start
            figures[name] = statistics.median(durations)
    base = figures["empty async test"]
    return {name: (value, value - base) for name, value in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="cold starts (fresh interpreters)")
    options = parser.parse_args()

    cold = cold_start(options.repeats)
    print(f"cold start (median of {options.repeats} fresh interpreters; target <= 0.1 s for the server):")
    print(f"  import the fake            {cold['import_s'] * 1000:8.1f} ms")
    print(f"  start serving              {cold['start_s'] * 1000:8.1f} ms")
    print(f"  first SDK answer (total)   {cold['first_call_s'] * 1000:8.1f} ms  (imports openai)")
    print(f"per request, {options.requests} sequential requests, median of {options.rounds} rounds:")
    for name, seconds in per_request(options.requests, options.rounds).items():
        print(f"  {name:46s} {seconds * 1000:8.3f} ms")
    print(f"per test, median of {options.tests} tests (minus an empty async test):")
    for name, (seconds, extra) in per_test(options.tests).items():
        print(f"  {name:46s} {seconds * 1000:8.2f} ms  (+{extra * 1000:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
