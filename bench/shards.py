"""Sharding figures: ``pytest features`` whole against its N shards run at the same time on this machine.

    uv run python bench/shards.py [--shards 3] [--out reports/bench-shards] [--snapshot] [-- extra pytest options]

Each run is its own pytest process with its own reports directory and services log folder (so its own embedded
services); the shards start together. Then the shards are merged (``python -m narrative_fixtures.signoff merge``)
and compared with the whole run: figures and the comparison are printed and written to OUT/shards.json, never
asserted (the self-tests assert: tests/signoff/test_shards.py). ``--snapshot`` runs everything in a copy of the
last commit (``git archive HEAD``), so edits made in the work tree meanwhile cannot make the runs differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


CHECKOUT = ROOT  # where the runs run: the work tree, or a snapshot of the last commit (--snapshot)


def _env(reports: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("NARRATIVE_SIGNOFF_RUN", None)
    env.update(NARRATIVE_REPORTS_DIR=str(reports), TEST_SERVICES_LOG_DIR=str(reports / "services"))
    paths = [str(CHECKOUT / "fixtures"), str(CHECKOUT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))  # the checkout's package before the installed one
    return env


def _snapshot() -> Path:
    """The last commit's files in a new temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="narrative-bench-shards-"))
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _start(reports: Path, extra: list[str]) -> subprocess.Popen:
    reports.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:randomly", *extra]
    log = open(reports / "pytest.log", "w")  # noqa: SIM115 - closed with the process below
    return subprocess.Popen(command, cwd=CHECKOUT, env=_env(reports), stdout=log, stderr=subprocess.STDOUT)


def _timed(processes: list[subprocess.Popen]) -> tuple[float, list[int]]:
    began = time.perf_counter()
    codes = [process.wait() for process in processes]
    return time.perf_counter() - began, codes


def _record(directory: Path) -> dict:
    (path,) = sorted(directory.glob("run*.json"))
    return json.loads(path.read_text())


def _view(run: dict) -> tuple[dict, dict]:
    from narrative_fixtures.signoff.model import build

    signoff = build(run)
    verdicts = {row.criterion.key: row.verdict for row in signoff.rows}
    outcomes = {s.nodeid: s.outcome for row in signoff.rows for s in row.scenarios}
    outcomes.update({s.nodeid: s.outcome for s in signoff.unlinked})
    return verdicts, outcomes


def main() -> int:
    from narrative_fixtures.signoff.checklist import JUDGES_ITS_RUN

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench-shards"))
    parser.add_argument("--snapshot", action="store_true", help="run in a copy of the last commit")
    parser.add_argument("extra", nargs="*", help="pytest options for every run (after --)")
    args = parser.parse_args()
    global CHECKOUT
    if args.snapshot:
        CHECKOUT = _snapshot()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]

    full_s, full_codes = _timed([_start(out / "full", args.extra)])
    from narrative_fixtures.signoff.merge_artifacts import write_durations

    durations = write_durations(_record(out / "full")["scenarios"], out / "test_durations.json")  # the full run's
    shard_dirs = [out / f"shard-{index}" for index in range(1, args.shards + 1)]
    sharding = ["--durations-path", str(durations)]
    processes = [_start(d, [*args.extra, *sharding, "--shard", f"{i}/{args.shards}"]) for i, d in enumerate(shard_dirs, 1)]
    shards_s, shard_codes = _timed(processes)
    merged = out / "merged"
    done = subprocess.run(
        [sys.executable, "-m", "narrative_fixtures.signoff", "merge", "--out", str(merged), *map(str, shard_dirs)],
        cwd=CHECKOUT, env=_env(merged), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        print(done.stderr.strip(), file=sys.stderr)
        return done.returncode
    full_verdicts, full_outcomes = _view(_record(out / "full"))
    merged_run = json.loads((merged / "run.json").read_text())
    merged_verdicts, merged_outcomes = _view(merged_run)
    figures = {
        "shards": args.shards,
        "cpus": os.cpu_count(),
        "load_average_1m_before": load_before,
        "full_run_wall_s": round(full_s, 1),
        "shards_at_once_wall_s": round(shards_s, 1),
        "speed_up": round(full_s / shards_s, 2) if shards_s else None,
        "exit_status_full": full_codes[0],
        "exit_status_shards": shard_codes,
        "scenarios_per_shard": [len(_record(d)["scenarios"]) for d in shard_dirs],
        "shard_durations_s": [_record(d)["duration_s"] for d in shard_dirs],
        "balanced_by": "the full run's durations (pytest-split's --durations-path)",
        "merge_exit_status": done.returncode,
        "merged_kind": merged_run["kind"],
        "left_to_a_whole_run": sorted(k for k, v in merged_outcomes.items() if v == "not run"),
        "same_verdicts": merged_verdicts == full_verdicts,
        "same_verdicts_but_whole_run_criteria": {k: v for k, v in merged_verdicts.items() if k not in JUDGES_ITS_RUN}
        == {k: v for k, v in full_verdicts.items() if k not in JUDGES_ITS_RUN},
        "same_outcomes": merged_outcomes == full_outcomes,
        "differing_outcomes": {k: [full_outcomes.get(k), merged_outcomes.get(k)]
                               for k in sorted(set(full_outcomes) | set(merged_outcomes))
                               if full_outcomes.get(k) != merged_outcomes.get(k) and merged_outcomes.get(k) != "not run"},
        "verdicts": merged_verdicts,
    }  # fmt: skip
    if args.snapshot:
        figures["snapshot_of"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                                text=True).stdout.strip()  # fmt: skip
        shutil.rmtree(CHECKOUT, ignore_errors=True)
    (out / "shards.json").write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
