"""Mutation throughput: seconds per mutant of one module on a sample, for comparing engines on the same mutants.

    nice -n 15 uv run python bench/mutation.py narrative_fixtures.services.redis.janitor --only '*__mutmut_1'
    nice -n 15 uv run python bench/mutation.py narrative_fixtures.services.redis.factories \\
        --only '*__mutmut_1' --only '*__mutmut_7' --root /tmp/tree-before     # another tree (git archive of a commit)

Runs ``python -m narrative_fixtures.mutation MODULE --only ...`` with the engine of ``--root`` (its ``fixtures/``
first on ``PYTHONPATH``) in a scratch directory of its own, then prints what mutmut recorded: mutants run, their
verdicts, seconds in mutants and per mutant, and the run's wall time. Figures, never assertions: on a shared
machine run before and after back to back and compare verdicts mutant for mutant (``--keep`` prints each one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module")
    parser.add_argument("--only", action="append", default=[], help="mutmut name pattern (repeatable)")
    parser.add_argument("--root", default=str(ROOT), help="the tree whose engine and tests run (default: this one)")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="print every mutant's seconds and verdict")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-mutation-") as scratch:
        out, work = Path(scratch) / "reports", Path(scratch) / "work"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "fixtures"), os.environ.get("PYTHONPATH", "")])}
        command = [sys.executable, "-m", "narrative_fixtures.mutation", args.module, "--root", str(root),
                   "--out", str(out), "--work", str(work), "--max-children", "1", "--timeout", str(args.timeout),
                   *(arg for pattern in args.only for arg in ("--only", pattern))]
        started = time.monotonic()
        completed = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if completed.returncode != 0:
            print(completed.stdout[-2000:], completed.stderr[-2000:], sep="\n", file=sys.stderr)
            return completed.returncode
        criterion = next(iter(json.loads((out / "mutation.json").read_text())["criteria"].values()))
        figures = criterion["modules"][args.module]
        ran = figures["total"] - figures["not run"]
        print(f"{args.module}: {ran} mutants run, {figures['detected']} detected, {figures['survived']} survived, "
              f"{figures['no tests']} no tests; {figures['mutant_seconds']:.1f} s in mutants "
              f"({figures['mutant_seconds'] / max(ran, 1):.2f} s a mutant); wall {wall:.0f} s")
        if args.keep:
            meta = (work / criterion_key(work) / "mutants" / "src" / Path(*args.module.split("."))).with_suffix(".py.meta")
            data = json.loads(meta.read_text())
            for name, seconds in sorted(data.get("durations_by_key", {}).items()):
                print(f"  {name.rpartition('.')[2]:60} {seconds:6.2f} s  exit {data['exit_code_by_key'].get(name)}")
    return 0


def criterion_key(work: Path) -> str:
    return next(entry.name for entry in work.iterdir() if entry.is_dir())


if __name__ == "__main__":
    sys.exit(main())
