"""S3 figures: the embedded server's cold start (moto_server-style subprocess vs in-process thread) and the per-test
cost of the bucket fixture against moto's in-process ``mock_aws`` creating a client and a bucket in every test.

    uv run python bench/s3_variants.py [--repeats 5] [--tests 60] [--rounds 3]

Figures, never assertions. Every cold start runs in a fresh interpreter, so imports are as cold as in a real run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from timing import run_timed  # bench/timing.py: this script's folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent

# Each probe prints a JSON line of seconds. The plugin's modules (and pytest) are imported first, as in any pytest
# run before a fixture starts a server; boto3 and moto are not. "server_s" is spawn (or thread start) -> first
# answered ListBuckets; "first_call_s" is from that start to the first ListBuckets answered through a boto3 client.
SUBPROCESS_PROBE = """
import json, time
from pathlib import Path
from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import ProvisionContext
from narrative_fixtures.services import s3
settings = cfg.resolve({}, {}, {"services_log_dir": "reports/services"}, Path("."))
began = time.perf_counter()
endpoint, owned = s3.PROVIDER.start_embedded(ProvisionContext(settings, "bench"))
client = s3.client_for(endpoint, settings["s3"])
client.list_buckets()
first_call = time.perf_counter() - began
owned.stop()
print(json.dumps({"server_s": endpoint.started_in, "first_call_s": first_call}))
"""

THREAD_PROBE = """
import json, time
from narrative_fixtures.provisioning import ThreadServer
from narrative_fixtures.services import s3
from narrative_fixtures.services.s3 import server as s3_server
if {preload}:
    import boto3.session, botocore.config
began = time.perf_counter()
server = ThreadServer("s3", s3_server.make_server, s3._list_buckets_answered, timeout=30, setting="TEST_S3_MODE")
server.start()
server_s = time.perf_counter() - began
client = s3.make_client(server.url, credentials=s3.EMBEDDED_CREDENTIALS, region="us-east-1")
client.list_buckets()
first_call = time.perf_counter() - began
server.stop()
print(json.dumps({{"server_s": server_s, "first_call_s": first_call}}))
"""

PLAIN_INI = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"

PER_TEST = {
    "baseline": """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_baseline(n):
    pass
""",
    "ours": """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_ours(s3_client, test_s3_bucket, n):
    s3_client.put_object(Bucket=test_s3_bucket, Key="k", Body=b"v")
""",
    "mock_aws": """
import boto3, pytest
from moto import mock_aws

@pytest.fixture
def peer():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="test-narrative-bucket")
        yield client, "test-narrative-bucket"

@pytest.mark.parametrize("n", range({n}))
def test_peer(peer, n):
    client, bucket = peer
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
""",
}


def fresh(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def cold_starts(repeats: int) -> dict:
    variants = {
        "subprocess (chosen)": SUBPROCESS_PROBE,
        "in-process thread, cold interpreter": THREAD_PROBE.format(preload=False),
        "in-process thread, boto3 already imported": THREAD_PROBE.format(preload=True),
    }
    figures = {}
    for name, code in variants.items():
        runs = [fresh(code) for _ in range(repeats)]
        figures[name] = {
            key: {"median": statistics.median(run[key] for run in runs), "min": min(run[key] for run in runs)}
            for key in ("server_s", "first_call_s")
        }
    return figures


def per_test(tests: int, rounds: int) -> dict:
    sys.path.insert(0, str(ROOT / "fixtures"))
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services import s3

    settings = cfg.resolve({}, {}, {"services_log_dir": "reports/services"}, ROOT)
    endpoint, owned = s3.PROVIDER.start_embedded(ProvisionContext(settings, "bench"))
    medians: dict[str, list[float]] = {name: [] for name in PER_TEST}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
            workdir = Path(tmp)
            (workdir / "pytest.ini").write_text(PLAIN_INI)
            for _round in range(rounds):  # interleaved rounds, so a busy moment of the machine hits every variant
                for name, source in PER_TEST.items():
                    (workdir / f"test_{name}.py").write_text(textwrap.dedent(source.format(n=tests)))
                    env = {"S3_ENDPOINT_URL": endpoint.url, "TEST_S3_MODE": "external"}
                    durations = run_timed(workdir, f"test_{name}.py", env)
                    # the median leaves out the first test, which pays the one-off imports (boto3, moto)
                    medians[name].append(statistics.median(durations))
    finally:
        owned.stop()
    best = {name: min(values) for name, values in medians.items()}
    ours = best["ours"] - best["baseline"]
    peer = best["mock_aws"] - best["baseline"]
    return {
        "tests": tests, "rounds": rounds, "ours_ms": ours * 1000, "mock_aws_ms": peer * 1000, "ratio": ours / peer,
        "target": 0.3, "medians_ms": {name: [value * 1000 for value in values] for name, values in medians.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    results["cold_start"] = cold_starts(args.repeats)
    results["per_test"] = per_test(args.tests, args.rounds)
    for name, figures in results["cold_start"].items():
        print(f"cold start, {name}: server ready {figures['server_s']['median']:.3f} s median"
              f" (min {figures['server_s']['min']:.3f}); first boto3 call answered"
              f" {figures['first_call_s']['median']:.3f} s after the start")
    figures = results["per_test"]
    print(f"per-test cost (best of {figures['rounds']} rounds of medians, minus an empty test's):"
          f" ours {figures['ours_ms']:.2f} ms, mock_aws {figures['mock_aws_ms']:.2f} ms,"
          f" ratio {figures['ratio']:.2f} (target <= 0.3)")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
