"""Per-test timings of a small pytest project run in a subprocess: the measuring piece every benchmark shares."""

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
