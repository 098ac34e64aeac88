"""Flake hunt: run the acceptance features many times in random order, and in parallel, and report any flake.

    uv run python bench/stress.py                     # 20 random-order runs + 2 runs with -n 2
    uv run python bench/stress.py --random 5 --parallel 1

Each run uses a fresh pytest-randomly seed (printed, so a flake can be replayed with ``--randomly-seed=N``)
and strict mode, so a skipped service counts as a failure. A flake is any run that does not pass every scenario.
Writes stress.json into the reports directory (``NARRATIVE_REPORTS_DIR``, else reports/).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from narrative_fixtures.signoff.outputs import configured_reports_dir

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def run(extra: list[str]) -> dict:
    argv = [sys.executable, "-m", "pytest", "features", "-q", "--require-services", *extra]
    began = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - began
    tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in SUMMARY.findall(tail)}
    failures = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return {"argv": extra, "exit": result.returncode, "wall_s": round(wall, 2), "counts": counts,
            "failures": failures, "summary": tail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--random", type=int, default=20, help="random-order runs")
    parser.add_argument("--parallel", type=int, default=2, help="runs with -n 2")
    parser.add_argument("--output", default=str(configured_reports_dir(ROOT) / "stress.json"))
    args = parser.parse_args(argv)
    runs = []
    for index in range(args.random):
        seed = random.randrange(1, 2**31)
        runs.append(run([f"--randomly-seed={seed}"]))
        print(f"random {index + 1}/{args.random} seed={seed}: {runs[-1]['summary']}", flush=True)
    for index in range(args.parallel):
        seed = random.randrange(1, 2**31)
        runs.append(run(["-n", "2", f"--randomly-seed={seed}"]))
        print(f"parallel {index + 1}/{args.parallel} seed={seed}: {runs[-1]['summary']}", flush=True)
    flakes = [entry for entry in runs if entry["exit"] != 0 or set(entry["counts"]) - {"passed"}]
    totals = sorted({entry["counts"].get("passed", 0) for entry in runs})
    report = {"runs": runs, "flakes": len(flakes), "passed_counts": totals}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    print(f"\n{len(runs)} runs, {len(flakes)} flaky; passed per run: {totals}")
    for entry in flakes:
        print(f"  FLAKE {entry['argv']}: {entry['summary']}")
        for line in entry["failures"][:10]:
            print(f"    {line}")
    if len(totals) > 1:
        print("  WARNING: the number of passing scenarios differs between runs")
    return 1 if flakes or len(totals) > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
