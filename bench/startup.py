"""Start-up figures, side by side in one run: what "change one thing, run one test" costs.

    uv run python bench/startup.py                # everything (about two minutes on a quiet 2-core machine)
    uv run python bench/startup.py --skip-full    # without the full `pytest features` runs
    uv run python bench/startup.py --xdist-only   # only the full runs: -n 0, -n 2 shared, -n 2 a server set each
    uv run python bench/startup.py --as-is        # keep PYTHONDONTWRITEBYTECODE (every module compiled each run)
    uv run python bench/startup.py --compare HEAD~3   # also the same cases in a snapshot of that commit (before/after)

Cases (each the wall time of a fresh ``python -m pytest`` process, median of ``--repeats``, taken round-robin so a
busy moment hits every case alike):
- one Redis scenario of the acceptance spec against a bare pytest running one empty test with the same plugins
  installed (target <= 1.5x): ``-k separate_queues`` (it waits for nothing: what the loop costs) and the issue's
  example ``-k time_to_live``, shown beside it (its scenario sleeps 250 ms by design: it waits for Redis to expire
  a 200 ms key, time no start-up work can remove);
- another project's one-test file using ``redis_client`` against pytest-redis doing the same (target <= 1.2x);
- the full ``pytest features --require-services`` wall with ``-n 0`` and ``-n 2`` (targets <= 8 s, >= 1.3x), ``-n 2``
  also with a server set per worker (``--xdist-shared-servers=no``, as before the workers shared one), with
  where the time goes: worker start-up (``-n 2`` vs ``-n 0`` with every scenario deselected) and the longest
  scenarios.

The table ends with a machine probe, taken before and after the runs: the best of 3 timings of one fixed pure-Python
loop. The absolute target (``-n 0`` in at most 8 s) is for a quiet machine; the probe shows how busy this one was
(one day the same host ran ``-n 0`` in 6.8 s at a quiet moment and in 11.2 s at a busy one), so that two runs can be
compared. The ratios are taken round-robin and hold either way.

Figures, never assertions. Bytecode is written to a private ``PYTHONPYCACHEPREFIX`` (a user's machine caches .pyc;
this environment's PYTHONDONTWRITEBYTECODE=1 alone makes every start-up compile ~180 modules, ~1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_PEERS = ("-p", "no:pytest_redis", "-p", "no:pytest_mongo")  # as this project's ini: one Redis plugin at a time
AS_THIS_INI = (*NO_PEERS, "-p", "no:anyio")  # the bare run loads the plugins the spec's run loads (pyproject addopts)
QUIET = ("-q", "-p", "no:randomly")
PLAIN_INI = (
    "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    "asyncio_default_test_loop_scope = function\n"
)
EMPTY_TEST = "def test_empty():\n    pass\n"
OURS_TEST = """
import pytest

@pytest.mark.asyncio
async def test_one(redis_client):
    await redis_client.set("k", "v")
    assert await redis_client.get("k") == "v"
"""
PEER_TEST = """
def test_one(redisdb):
    redisdb.set("k", "v")
    assert redisdb.get("k") == b"v"
"""
NO_SCENARIO = "no_scenario_is_named_like_this"
ONE_SCENARIO = ("features/test_redis.py", "-k", "separate_queues")  # a scenario that waits for nothing
TTL_SCENARIO = ("features/test_redis.py", "-k", "time_to_live")  # the example: sleeps 250 ms by design
DURATION_LINE = re.compile(r"^\s*(\d+\.\d+)s (setup|call|teardown)\s+(\S+)")


def bench_env(as_is: bool, pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def project(folder: Path, files: dict[str, str], ini: str = PLAIN_INI) -> Path:
    """Another project: an ini and its test files, outside this repository."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text(ini)
    for name, source in files.items():
        (folder / name).write_text(source)
    return folder


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - began, done


def last_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else done.stderr.strip()[-200:]


def round_robin(cases: dict[str, tuple], env: dict[str, str], repeats: int) -> dict[str, dict]:
    """Each case ``repeats`` times, interleaved, after one warm-up round (the .pyc cache, the page cache).

    A case is ``(argv, cwd)`` or ``(argv, cwd, folder)``: that folder is removed before each of its runs.
    """
    walls: dict[str, list[float]] = {name: [] for name in cases}
    outcome: dict[str, str] = {}
    longest: dict[str, list] = {}
    for round_ in range(repeats + 1):
        for name, (argv, cwd, *fresh) in cases.items():
            for folder in fresh:
                shutil.rmtree(folder, ignore_errors=True)
            wall, done = timed(argv, cwd, env)
            outcome[name] = f"exit {done.returncode}: {last_line(done)}"
            longest[name] = longest_phases(done.stdout)
            if round_:
                walls[name].append(wall)
    return {
        name: {
            "median_s": statistics.median(values), "min_s": min(values), "walls_s": values,
            "outcome": outcome[name], "longest": longest[name],
        }
        for name, values in walls.items()
    }


def longest_phases(output: str) -> list[tuple[float, str]]:
    """The test phases pytest's ``--durations`` listed, longest first (empty without that option)."""
    found = [(float(m[1]), f"{m[2]} {m[3]}") for m in map(DURATION_LINE.match, output.splitlines()) if m]
    return sorted(found, reverse=True)


PROBE_LOOP = "total = 0\nfor number in range(10_000_000):\n    total += number\n"


def machine_probe(repeats: int = 3) -> float:
    """The best of ``repeats`` timings of one fixed pure-Python loop (10 million additions): how fast this machine
    runs Python right now, to put the absolute figures of a run beside."""
    import timeit

    return min(timeit.repeat(PROBE_LOOP, number=1, repeat=repeats))


def pytest_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *QUIET, *args]


def snapshot(ref: str, target: Path) -> Path:
    """A copy of commit ``ref`` (``git archive``): its cases run with its package first on the path."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def with_checkout(argv: list[str], checkout: Path) -> list[str]:
    """``argv`` run with ``checkout``'s package and steps imported before the installed (work tree's) ones."""
    paths = os.pathsep.join([str(checkout / "fixtures"), str(checkout)])
    return ["env", f"PYTHONPATH={paths}", *argv]


def compared_cases(checkout: Path, ref: str, full: bool) -> dict[str, tuple]:
    """The scenario (and, with ``full``, the full runs) again in the snapshot of ``ref``."""
    cases = {
        f"scenario @{ref}": (with_checkout(pytest_argv(*ONE_SCENARIO), checkout), checkout),
        f"scenario ttl @{ref}": (with_checkout(pytest_argv(*TTL_SCENARIO), checkout), checkout),
    }
    if full:
        features = ("features", "--require-services")
        cases[f"full -n 0 @{ref}"] = (with_checkout(pytest_argv(*features, "-n", "0"), checkout), checkout)
        cases[f"full -n 2 @{ref}"] = (with_checkout(pytest_argv(*features, "-n", "2"), checkout), checkout)
    return cases


def startup_cases(work: Path) -> dict[str, tuple[list[str], Path]]:
    bare = project(work / "bare", {"test_empty.py": EMPTY_TEST})
    ours = project(work / "ours", {"test_one.py": OURS_TEST})
    peer = project(work / "peer", {"test_one.py": PEER_TEST})
    return {
        "scenario": (pytest_argv(*ONE_SCENARIO), ROOT),
        "scenario ttl": (pytest_argv(*TTL_SCENARIO), ROOT),
        "bare": (pytest_argv(*AS_THIS_INI, "test_empty.py"), bare),
        "ours": (pytest_argv(*NO_PEERS, "test_one.py"), ours),
        "pytest-redis": (pytest_argv("-p", "no:narrative_fixtures", "-p", "no:pytest_mongo", "test_one.py"), peer),
    }


def full_cases(work: Path) -> dict[str, tuple]:
    features = ("features", "--require-services")
    return {
        "full -n 0": (pytest_argv(*features, "-n", "0", "--durations=12"), ROOT),
        "full -n 2": (pytest_argv(*features, "-n", "2"), ROOT),
        # the same with a server set per worker (as before the workers shared one: core.shared_servers)
        "full -n 2 own sets": (pytest_argv(*features, "-n", "2", "--xdist-shared-servers=no"), ROOT),
        # start-up with nothing to run (every scenario deselected): -n 2 minus -n 0 is what starting two workers
        # costs (a collect-only run never starts xdist's workers, so it cannot show that)
        "collect -n 0": (pytest_argv(*features, "-k", NO_SCENARIO, "-n", "0"), ROOT),
        "collect -n 2": (pytest_argv(*features, "-k", NO_SCENARIO, "-n", "2"), ROOT),
    }


def paired(slower: dict, faster: dict) -> float:
    """The median of the per-round ratios of two cases (a round runs each case once, back to back), steadier on a
    busy machine than the ratio of the medians: a loaded moment slows both runs of its round alike."""
    return statistics.median(a / b for a, b in zip(slower["walls_s"], faster["walls_s"]))


def table(results: dict) -> str:
    start = results["startup"]
    lines = ["| measure | median wall (min) | ratio | target |", "|---|---|---|---|"]

    def row(name: str, label: str, ratio: str = "", target: str = "") -> None:
        figures = start.get(name) or results.get("full", {}).get(name)
        lines.append(f"| {label} | {figures['median_s']:.2f} s ({figures['min_s']:.2f}) | {ratio} | {target} |")

    if start:
        row("bare", "bare pytest, one empty test, same plugins")
        row("scenario", "one Redis scenario (features/test_redis.py -k separate_queues)",
            f"{start['scenario']['median_s'] / start['bare']['median_s']:.2f}x bare", "<= 1.5x")
        row("scenario ttl", "one Redis scenario that sleeps 250 ms by design (-k time_to_live)",
            f"{start['scenario ttl']['median_s'] / start['bare']['median_s']:.2f}x bare", "")
        row("pytest-redis", "another project: one test with pytest-redis's redisdb")
        row("ours", "another project: one test with redis_client",
            f"{start['ours']['median_s'] / start['pytest-redis']['median_s']:.2f}x pytest-redis", "<= 1.2x")
    full = results.get("full")
    if full:
        row("full -n 0", "pytest features --require-services -n 0", "", "<= 8 s")
        row("full -n 2", "pytest features --require-services -n 2",
            f"{full['full -n 0']['median_s'] / full['full -n 2']['median_s']:.2f}x faster than -n 0"
            f" (paired by round: {paired(full['full -n 0'], full['full -n 2']):.2f}x)", ">= 1.3x")
        if "full -n 2 own sets" in full:
            row("full -n 2 own sets", "pytest features --require-services -n 2, a server set per worker",
                f"{full['full -n 0']['median_s'] / full['full -n 2 own sets']['median_s']:.2f}x faster than -n 0", "")
        if "collect -n 0" in full:
            row("collect -n 0", "start-up, nothing selected, -n 0")
            row("collect -n 2", "start-up, nothing selected, -n 2 (two workers started)",
                f"+{full['collect -n 2']['median_s'] - full['collect -n 0']['median_s']:.2f} s")
        for seconds, phase in full["full -n 0"]["longest"]:
            lines.append(f"| longest: {phase} | {seconds:.2f} s | | |")
    for name in start:
        if "@" in name:
            lines.append(f"| {name} | {start[name]['median_s']:.2f} s ({start[name]['min_s']:.2f}) |"
                         f" {start[name]['median_s'] / start['bare']['median_s']:.2f}x bare | before |")
    for name in full or {}:
        if "@" in name:
            serial = full.get(name.replace("-n 2", "-n 0")) if "-n 2" in name else None
            ratio = (f"{serial['median_s'] / full[name]['median_s']:.2f}x faster than its -n 0 (paired:"
                     f" {paired(serial, full[name]):.2f}x); now {paired(full[name], full['full -n 2']):.2f}x"
                     " faster, paired") if serial else ""
            lines.append(f"| {name} | {full[name]['median_s']:.2f} s ({full[name]['min_s']:.2f}) | {ratio} | before |")
    probe = results.get("machine_probe_s")
    if probe:
        lines.append(f"| machine probe: a fixed Python loop, best of 3, before / after the runs"
                     f" | {probe['before']:.3f} s / {probe['after']:.3f} s | | quiet for the absolute figures |")
    outcomes = {**start, **(full or {})}
    lines.append("")
    lines.extend(f"{name}: {figures['outcome']}" for name, figures in outcomes.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each start-up case (median)")
    parser.add_argument("--full-repeats", type=int, default=2, help="timed runs of each full `pytest features` case")
    parser.add_argument("--skip-full", action="store_true", help="skip the full `pytest features` runs")
    parser.add_argument("--xdist-only", action="store_true",
                        help="only the full runs: -n 0, -n 2 (shared servers) and -n 2 with a server set per worker")
    parser.add_argument("--as-is", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as the environment has it")
    parser.add_argument("--compare", metavar="REF", help="also run the cases in a snapshot of this commit")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench-startup.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="narrative-startup-") as temp:
        work = Path(temp)
        env = bench_env(args.as_is, work / "pycache")
        results: dict = {"cpus": os.cpu_count(), "load": os.getloadavg(), "bytecode_cached": not args.as_is}
        probe_before = machine_probe()
        cases, full, before = startup_cases(work), full_cases(work), {}
        if args.compare:
            before = compared_cases(snapshot(args.compare, work / "before"), args.compare, not args.skip_full)
            results["compared_with"] = args.compare
        cases.update({name: case for name, case in before.items() if name.startswith("scenario")})
        full.update({name: case for name, case in before.items() if name.startswith("full")})
        if args.xdist_only:
            full = {name: case for name, case in full.items() if name.startswith("full -n")}
        results["startup"] = {} if args.xdist_only else round_robin(cases, env, args.repeats)
        if not args.skip_full:
            results["full"] = round_robin(full, env, args.full_repeats)
        results["machine_probe_s"] = {"before": probe_before, "after": machine_probe()}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
