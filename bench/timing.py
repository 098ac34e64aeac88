"""Per-test timings of a small pytest project run in a subprocess (the measuring piece every benchmark shares), and
the seconds the self-tests no longer assert (they check the mechanism: bounded socket waits, one probe, a failure
served from the registry's memory):

    uv run python bench/timing.py       # health checks of live / frozen / dead servers, remembered failures;
                                        # prints a table, writes reports/bench-timing.json

Figures, never assertions: each is printed beside the bound the code is built for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# A pytest plugin (written next to the measured tests) recording setup + call + teardown time of every test.
TIMING_PLUGIN = """
import json, os

durations = {}

def pytest_runtest_logreport(report):
    durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_TIMINGS"], "w") as out:
        json.dump(durations, out)
"""

BASE_ARGS = ("-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist")


def run_timed(workdir: Path, tests: str, env: dict[str, str], plugins: tuple[str, ...] = ()) -> list[float]:
    """Run ``tests`` (a file in ``workdir``) with pytest and return each test's duration, in run order.

    Raises RuntimeError with pytest's output when a test fails: a failing benchmark measures nothing.
    """
    workdir = Path(workdir)
    (workdir / "bench_timing.py").write_text(TIMING_PLUGIN)
    timings = workdir / f"{Path(tests).stem}.timings.json"
    argv = [sys.executable, "-m", "pytest", *BASE_ARGS, "-p", "bench_timing"]
    for plugin in plugins:
        argv += ["-p", plugin]
    result = subprocess.run(
        [*argv, tests], cwd=workdir, capture_output=True, text=True,
        env={**os.environ, **env, "BENCH_TIMINGS": str(timings), "PYTHONPATH": str(workdir)},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{tests} failed:\n{result.stdout[-3000:]}")
    return list(json.loads(timings.read_text()).values())


# --- the figures the self-tests used to assert -------------------------------------------------------------------

HEALTH_TARGET_S = 0.5  # a health check answers within ~0.5 s however dead or frozen the server is


def _seconds(function, repeats: int) -> list[float]:
    import time

    taken = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        taken.append(time.perf_counter() - began)
    return taken


def health_figures(repeats: int = 5) -> dict[str, dict[str, list[float]]]:
    """Seconds of each service's ``health(endpoint)`` on a live, a frozen (SIGSTOP) and a dead embedded server."""
    import signal

    from narrative_fixtures import config as cfg
    from narrative_fixtures.core.catalog import load_provider
    from narrative_fixtures.provisioning import ProvisionContext

    root = Path(__file__).resolve().parent.parent
    settings = cfg.resolve({}, os.environ, {"services_log_dir": "reports/services"}, root)
    figures = {}
    for service in ("redis", "mongodb", "s3"):
        provider = load_provider(service)
        endpoint, server = provider.start_embedded(ProvisionContext(settings, "bench"))
        pid = getattr(endpoint, "pid", None) or server.pid
        row = {"live": _seconds(lambda: provider.health(endpoint), repeats)}
        os.kill(pid, signal.SIGSTOP)
        try:
            row["frozen"] = _seconds(lambda: provider.health(endpoint), repeats)
        finally:
            os.kill(pid, signal.SIGCONT)
        server.stop()
        row["dead"] = _seconds(lambda: provider.health(endpoint), repeats)
        figures[service] = row
    return figures


def remembered_failure_figures(uses: int = 1000) -> dict[str, float]:
    """Seconds of the first use of an unreachable service (the probe) and of each later use (served from memory)."""
    import tempfile

    from narrative_fixtures import config as cfg
    from narrative_fixtures.errors import ServiceUnavailable
    from narrative_fixtures.provisioning import ServiceRegistry

    class Unreachable:
        def connect_external(self, config, context):
            raise ServiceUnavailable("redis unavailable: cannot reach Redis at TEST_REDIS_URL")

    def use(registry) -> None:
        try:
            registry.endpoint("redis")
        except ServiceUnavailable:
            pass

    with tempfile.TemporaryDirectory() as folder:
        settings = cfg.resolve({}, {"TEST_REDIS_URL": "redis://127.0.0.1:9/0"}, {"services_log_dir": folder},
                               Path(folder))
        registry = ServiceRegistry(settings, {"redis": Unreachable}, "bench")
        first = _seconds(lambda: use(registry), 1)[0]
        later = _seconds(lambda: use(registry), uses)
        registry.close()
    return {"first use (probe)": first, "each later use (median)": sorted(later)[len(later) // 2],
            "slowest later use": max(later)}


def main() -> int:
    import statistics

    health = health_figures()
    remembered = remembered_failure_figures()
    print(f"health(endpoint), seconds over 5 calls (target: every call < {HEALTH_TARGET_S} s)")
    print(f"{'service':<10}{'state':<8}{'median':>9}{'max':>9}")
    for service, row in health.items():
        for state, taken in row.items():
            print(f"{service:<10}{state:<8}{statistics.median(taken):>9.4f}{max(taken):>9.4f}")
    print("an unreachable service, remembered (target: a later use costs no probe, microseconds)")
    for what, seconds in remembered.items():
        print(f"  {what:<26}{seconds * 1e6:>10.1f} us")
    out = Path(__file__).resolve().parent.parent / "reports" / "bench-timing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"health": health, "remembered_failure": remembered}, indent=2) + "\n")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
