"""Benchmarks: cold start of each embedded service, per-test fixture overhead against peers, full-run wall time.

    uv run python bench/bench.py                 # everything, writes reports/bench.json and prints a table
    uv run python bench/bench.py --only redis    # one service's sections
    uv run python bench/bench.py --skip-full     # without the full `pytest features` runs
    uv run python bench/bench.py --startup       # and bench/startup.py's start-up figures (its own table)

Sections: cold start of the four embedded services; per-test overhead of our fixtures against a peer on the same
server (pytest-redis, pytest-mongo's client fixture, moto's in-process ``mock_aws``); the OpenAI fake's start and
per-request cost through the real SDK (bench/openai_fake.py); `pytest features --require-services` with -n 0 and
-n 2 (one embedded server per worker), and -n 2 against one shared set of servers (workers in external mode, each
isolated by its own database / database index / bucket).

Figures, never assertions: the targets are printed beside the measurements. Peers run side by side in the same
process tree on the same servers, so a ratio compares like with like on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from narrative_fixtures import config as cfg  # noqa: E402
from narrative_fixtures.provisioning import ProvisionContext  # noqa: E402
from narrative_fixtures.core.catalog import load_provider  # noqa: E402
from timing import run_timed  # noqa: E402

COLD_START_TARGET = {"redis": 0.05, "mongodb": 1.5, "s3": 0.5, "openai": 0.1}

PLAIN_INI = (
    "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    "asyncio_default_test_loop_scope = function\n"
)
# A project whose async tests and fixtures share one loop for the session (as the acceptance suite does): an async
# client then lives as long as that loop (core.loop_clients), not one per test.
SESSION_LOOP_INI = PLAIN_INI.replace("loop_scope = function", "loop_scope = session")


@dataclass
class Comparison:
    """One service: our fixture against a peer's, as N ordinary tests each, on the same server."""

    service: str
    ours: str  # test body template using our fixtures; {n} = number of tests
    peers: dict[str, str]  # peer name -> test module source
    env: Callable[[object], dict[str, str]]  # endpoint -> environment for the nested run
    ini: Callable[[object], str] = lambda endpoint: ""
    plugins: tuple[str, ...] = ()
    target: str = ""
    extra: dict = field(default_factory=dict)
    # ours measured also on a server of the nested run's own (embedded mode, none of ``env``): what it does there
    own_server: str = ""


BASELINE = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_baseline(n):
    pass
"""

# An empty async test: what pytest-asyncio itself costs per test (a fresh event loop), fixture or not.
ASYNC_BASELINE = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_baseline(n):
    pass
"""


# The floor under any async MongoDB fixture on a loop per test: PyMongo's AsyncMongoClient made, handshaken (its
# monitor's and the pool's hello) and closed every test, which costs more than its synchronous MongoClient does.
ASYNC_FLOOR = "a bare AsyncMongoClient per test (the async floor: nothing cleaned or bound)"


def is_async(source: str) -> bool:
    return "async def test_" in source

COMPARISONS: dict[str, Comparison] = {
    "redis": Comparison(
        "redis",
        ours="""
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_ours(redis_client, n):
    await redis_client.set("k", n)
""",
        peers={
            "pytest-redis redisdb (sync)": """
import pytest
from pytest_redis import factories

redis_np = factories.redis_noproc()
peer = factories.redisdb("redis_np")

@pytest.mark.parametrize("n", range({n}))
def test_peer(peer, n):
    peer.set("k", n)
""",
            "pytest-redis redisdb_async": """
import pytest
from pytest_redis import factories

redis_np = factories.redis_noproc()
peer = factories.redisdb_async("redis_np")

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_peer(peer, n):
    await peer.set("k", n)
""",
        },
        env=lambda endpoint: {"TEST_REDIS_URL": endpoint.url, "TEST_REDIS_ALLOW_FLUSH": "1"},
        ini=lambda endpoint: (
            f"redis_host = 127.0.0.1\nredis_port = {endpoint.url.rsplit(':', 1)[1].split('/')[0]}\n"
            f"redis_password = {endpoint.url.split(':')[2].split('@')[0]}\n"
        ),
        plugins=("pytest_redis",),
        target="no worse than pytest-redis (ratio <= 1.0)",
    ),
    "mongodb": Comparison(
        "mongodb",
        ours="""
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_ours(setup_database, n):
    await setup_database["items"].insert_one({{"n": n}})
""",
        peers={
            "pytest-mongo mongodb client (noproc, sync)": """
import pytest
from pytest_mongo import factories

mongo_np = factories.mongo_noproc()
peer = factories.mongodb("mongo_np")

@pytest.mark.parametrize("n", range({n}))
def test_peer(peer, n):
    peer["narrative_test"]["items"].insert_one({{"n": n}})
""",
            # Not a rival: what any async test pays with a loop per test, a new client, nothing cleaned or bound.
            ASYNC_FLOOR: """
import os

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

@pytest_asyncio.fixture
async def peer():
    client = AsyncMongoClient(os.environ["TEST_MONGODB_URI"], tz_aware=True)
    yield client
    await client.close()

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range({n}))
async def test_peer(peer, n):  # a database of its own: ours refuses one holding documents it did not write
    await peer["floor_test"]["items"].insert_one({{"n": n}})
""",
        },
        env=lambda endpoint: {"TEST_MONGODB_URI": endpoint.url},
        ini=lambda endpoint: (
            f"mongo_host = 127.0.0.1\nmongo_port = {endpoint.url.rsplit(':', 1)[1].strip('/')}\n"
            "mongo_dbname = narrative_test\n"
        ),
        plugins=("pytest_mongo",),
        target="setup_database within 1.2x of pytest-mongo's client (issue 15)",
        own_server="its own embedded FerretDB, same binary and settings: the janitor reads its store",
    ),
    "s3": Comparison(
        "s3",
        ours="""
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_ours(s3_client, test_s3_bucket, n):
    s3_client.put_object(Bucket=test_s3_bucket, Key="k", Body=b"x")
""",
        peers={
            "moto mock_aws in-process (client + bucket per test)": """
import boto3
import pytest
from moto import mock_aws

@pytest.fixture
def peer():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="peer-bucket")
        yield client

@pytest.mark.parametrize("n", range({n}))
def test_peer(peer, n):
    peer.put_object(Bucket="peer-bucket", Key="k", Body=b"x")
""",
        },
        env=lambda endpoint: {"S3_ENDPOINT_URL": endpoint.url},
        target="<= 0.3x moto's mock_aws",
    ),
}


def settings() -> cfg.Settings:
    return cfg.resolve({}, {}, {"services_log_dir": "reports/services"}, ROOT)


def cold_start(service: str, repeats: int) -> dict:
    """Spawn -> ready of the embedded server, `repeats` times, each stopped before the next."""
    context = ProvisionContext(settings(), "bench")
    provider = load_provider(service)
    started, total = [], []
    backend = ""
    for _ in range(repeats):
        began = time.perf_counter()
        endpoint, owned = provider.start_embedded(context)
        total.append(time.perf_counter() - began)
        started.append(endpoint.started_in if endpoint.started_in is not None else total[-1])
        backend = f"{endpoint.backend} {endpoint.version}"
        owned.stop()
    return {
        "backend": backend,
        "median_ready_s": statistics.median(started),
        "min_ready_s": min(started),
        "median_with_handshake_s": statistics.median(total),
        "target_s": COLD_START_TARGET.get(service),
        "repeats": repeats,
    }


def run_nested(workdir: Path, module: str, source: str, env: dict[str, str], plugins: tuple[str, ...]) -> dict:
    (workdir / f"test_{module}.py").write_text(source)
    began = time.perf_counter()
    durations = run_timed(workdir, f"test_{module}.py", env, plugins)
    wall = time.perf_counter() - began
    # the median: the steady per-test cost, not the first test's one-off imports and session set-up
    return {"median_s": statistics.median(durations), "wall_s": wall}


def per_test(service: str, tests: int, rounds: int = 3) -> dict:
    """Median per-test time (setup+call+teardown) minus an empty test's of the same kind (sync or async), ours vs
    each peer, on the same server: the fixture's own cost, not pytest-asyncio's per-test event loop. Every variant
    runs once per round, the rounds one after another, and each figure is the median of its rounds: a slow moment
    of the machine weighs on every variant alike instead of on the one that ran then."""
    comparison = COMPARISONS[service]
    context = ProvisionContext(settings(), "bench")
    endpoint, owned = load_provider(service).start_embedded(context)
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{service}-") as tmp:
            workdir = Path(tmp)
            (workdir / "pytest.ini").write_text(PLAIN_INI + comparison.ini(endpoint))
            shared = workdir / "session-loop"  # the same tests in a project whose loop lives for the session
            shared.mkdir()
            (shared / "pytest.ini").write_text(SESSION_LOOP_INI + comparison.ini(endpoint))
            env = comparison.env(endpoint)
            ours_source = comparison.ours.format(n=tests)
            variants = {  # name -> (project, module, source, plugins, environment)
                "empty": (workdir, "baseline", BASELINE.format(n=tests), (), env),
                "empty async": (workdir, "baseline_async", ASYNC_BASELINE.format(n=tests), (), env),
                "ours": (workdir, "ours", ours_source, (), env),
                **({"ours, own server": (workdir, "ours", ours_source, (), {})} if comparison.own_server else {}),
                **({"empty async, session loop": (shared, "baseline_async", ASYNC_BASELINE.format(n=tests), (), env),
                    "ours, session loop": (shared, "ours", ours_source, (), env)} if is_async(ours_source) else {}),
                **{f"peer {name}": (workdir, "peer", source.format(n=tests), comparison.plugins, env)
                   for name, source in comparison.peers.items()},
            }
            rounds_of = {name: [] for name in variants}
            for _ in range(rounds):
                for name, (project, module, source, plugins, environment) in variants.items():
                    rounds_of[name].append(run_nested(project, module, source, environment, plugins)["median_s"])
            median = {name: statistics.median(figures) for name, figures in rounds_of.items()}
            baselines = {False: median["empty"], True: median["empty async"]}
            ours = median["ours"] - baselines[is_async(ours_source)]
            own = median["ours, own server"] - baselines[is_async(ours_source)] if comparison.own_server else None
            session_loop = None
            if is_async(ours_source):
                session_loop = median["ours, session loop"] - median["empty async, session loop"]
            peers = {}
            for name, source in comparison.peers.items():
                overhead = median[f"peer {name}"] - baselines[is_async(source)]
                peers[name] = {"overhead_ms": overhead * 1000, "ratio_ours_to_peer": ours / overhead}
                if own is not None:
                    peers[name]["ratio_ours_own_server_to_peer"] = own / overhead
                if session_loop is not None:
                    peers[name]["ratio_ours_session_loop_to_peer"] = session_loop / overhead
    finally:
        owned.stop()
    return {
        "tests": tests,
        "rounds": rounds,
        "medians_by_round_ms": {name: [round(figure * 1000, 2) for figure in figures]
                                for name, figures in rounds_of.items()},
        "ours_overhead_ms": ours * 1000,
        "ours_session_loop_overhead_ms": None if session_loop is None else session_loop * 1000,
        "ours_own_server_overhead_ms": None if own is None else own * 1000,
        "own_server": comparison.own_server,
        "peers": peers,
        "target": comparison.target,
        "empty_test_ms": baselines[False] * 1000,
        "empty_async_test_ms": baselines[True] * 1000,
    }


def full_run(workers: int, shared: bool = False, repeats: int = 2) -> dict:
    """Wall time of `pytest features --require-services` (best of ``repeats``), services started included.

    ``shared``: the four servers are started once here, before the run (their start is timed and added), and the
    workers reach them in external mode, each isolated by its own database, database index or bucket.
    """
    argv = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:randomly", "--require-services"]
    if workers:
        argv += ["-n", str(workers)]
    walls, result, started_s = [], None, 0.0
    for _ in range(repeats):
        env, owned = dict(os.environ), []
        began = time.perf_counter()
        if shared:
            context = ProvisionContext(settings(), "bench")
            for service in cfg.SERVICES:
                endpoint, server = load_provider(service).start_embedded(context)
                owned.append(server)
                env[cfg.SERVICES[service].connection_env] = endpoint.url
                env[cfg.SERVICES[service].mode_setting.env] = "external"
            env["TEST_REDIS_ALLOW_FLUSH"] = "1"  # our own throw-away server
            started_s = time.perf_counter() - began
        try:
            result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env)
        finally:
            for server in owned:
                server.stop()
        walls.append(time.perf_counter() - began)
    lines = result.stdout.strip().splitlines()
    return {
        "workers": workers, "shared_servers": shared, "wall_s": min(walls), "walls_s": walls,
        "shared_start_s": started_s if shared else None, "exit": result.returncode,
        "summary": lines[-1] if lines else result.stderr.strip()[-300:],
    }


def openai_figures(tests: int) -> dict:
    """bench/openai_fake.py's figures: the fake's cold start, per-request cost through the SDK, per-test cost."""
    import openai_fake

    cold = openai_fake.cold_start(3)
    requests = openai_fake.per_request(100, 3)
    per_test_ = openai_fake.per_test(tests)
    return {
        "cold_start_s": cold,
        "per_request_ms": {name: seconds * 1000 for name, seconds in requests.items() if name != "stop"},
        "per_test_ms": {name: {"median": value * 1000, "over_empty": extra * 1000} for name, (value, extra) in per_test_.items()},
        "target": "fake start <= 0.1 s",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated services (default: every service with a comparison)")
    parser.add_argument("--tests", type=int, default=60, help="tests per fixture for the per-test overhead")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the per-test comparison (median taken)")
    parser.add_argument("--repeats", type=int, default=5, help="cold starts per service")
    parser.add_argument("--skip-full", action="store_true", help="skip the full `pytest features` runs")
    parser.add_argument("--startup", action="store_true", help="also bench/startup.py's start-up figures")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench.json"))
    args = parser.parse_args(argv)
    services = args.only.split(",") if args.only else list(cfg.SERVICES)
    results: dict = {"machine": os.uname().nodename, "cpus": os.cpu_count(), "cold_start": {}, "per_test": {}}
    for service in services:
        results["cold_start"][service] = cold_start(service, args.repeats)
        if service in COMPARISONS:
            results["per_test"][service] = per_test(service, args.tests, args.rounds)
        if service == "openai":
            results["openai"] = openai_figures(args.tests)
    if not args.skip_full:
        full = results["full_run"] = {"n0": full_run(0), "n2": full_run(2), "n2_shared": full_run(2, shared=True)}
        full["speedup_n2"] = full["n0"]["wall_s"] / full["n2"]["wall_s"]
        full["speedup_n2_shared"] = full["n0"]["wall_s"] / full["n2_shared"]["wall_s"]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(table(results))
    if args.startup:  # its own table: start-up ratios against a bare pytest and pytest-redis, -n 2 vs -n 0
        import startup

        startup.main(["--skip-full"] if args.skip_full else [])
    print(f"\nwritten: {args.output}")
    return 0


def table(results: dict) -> str:
    lines = ["| measure | figure | target |", "|---|---|---|"]
    for service, cold in results["cold_start"].items():
        target = f"<= {cold['target_s']} s" if cold["target_s"] else ""
        lines.append(f"| cold start {service} ({cold['backend']}) | {cold['median_ready_s']:.3f} s median"
                     f" (min {cold['min_ready_s']:.3f}) | {target} |")
    for service, figures in results["per_test"].items():
        lines.append(f"| per-test overhead {service} (ours) | {figures['ours_overhead_ms']:.2f} ms (empty test"
                     f" {figures['empty_test_ms']:.2f} ms, empty async test {figures['empty_async_test_ms']:.2f} ms)"
                     " | |")
        if figures.get("ours_own_server_overhead_ms") is not None:
            lines.append(f"| per-test overhead {service} (ours on {figures['own_server']}) |"
                         f" {figures['ours_own_server_overhead_ms']:.2f} ms | |")
        if figures.get("ours_session_loop_overhead_ms") is not None:
            lines.append(f"| per-test overhead {service} (ours, a session-wide event loop) |"
                         f" {figures['ours_session_loop_overhead_ms']:.2f} ms | |")
        for peer, peer_figures in figures["peers"].items():
            session = peer_figures.get("ratio_ours_session_loop_to_peer")
            also = f"; with a session loop {session:.2f}x" if session is not None else ""
            own = peer_figures.get("ratio_ours_own_server_to_peer")
            also += f"; on its own server {own:.2f}x" if own is not None else ""
            target = "(a reference, not a rival)" if peer == ASYNC_FLOOR else figures["target"]
            lines.append(f"| per-test overhead {service}: {peer} | {peer_figures['overhead_ms']:.2f} ms;"
                         f" ours/peer = {peer_figures['ratio_ours_to_peer']:.2f}x{also} | {target} |")
    if "openai" in results:
        figures = results["openai"]
        cold = figures["cold_start_s"]
        lines.append(f"| cold start openai fake (in-process) | {cold['start_s'] * 1000:.1f} ms to serve (import"
                     f" {cold['import_s'] * 1000:.0f} ms; first SDK answer {cold['first_call_s'] * 1000:.0f} ms) |"
                     f" {figures['target']} |")
        for name, ms in figures["per_request_ms"].items():
            lines.append(f"| openai per request: {name} | {ms:.3f} ms | |")
        for name, ms in figures["per_test_ms"].items():
            lines.append(f"| openai per test: {name} | {ms['median']:.2f} ms (+{ms['over_empty']:.2f} ms over empty) | |")
    if "full_run" in results:
        full = results["full_run"]
        lines.append(f"| pytest features -n 0 | {full['n0']['wall_s']:.2f} s ({full['n0']['summary']}) | <= 10 s |")
        lines.append(f"| pytest features -n 2 (embedded server per worker) | {full['n2']['wall_s']:.2f} s"
                     f" ({full['n2']['summary']}) | |")
        shared = full["n2_shared"]
        lines.append(f"| pytest features -n 2 (one shared server set, external mode) | {shared['wall_s']:.2f} s incl."
                     f" {shared['shared_start_s']:.2f} s start ({shared['summary']}) | |")
        lines.append(f"| speed-up -n 2 vs -n 0 | {full['speedup_n2']:.2f}x per-worker servers,"
                     f" {full['speedup_n2_shared']:.2f}x shared | >= 1.4x |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
