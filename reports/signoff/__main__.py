"""Rebuild the sign-off from an existing run record: ``python -m reports.signoff [--run reports/run.json]``.

Re-reads the coverage JSON report named in the record (or ``--coverage``), so running ``coverage json`` after a
``coverage run -m pytest features`` run and then this command gives the final coverage figures. The sign-off keeps
the record's name: ``run.partial.json`` gives ``signoff.partial.md`` / ``.html``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .model import build
from .render import load_coverage, write_reports
from .scope import suffix_of_record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.signoff", description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="reports/run.json", help="the run record written by the pytest run")
    parser.add_argument("--coverage", default=None, help="a coverage JSON report (default: the one the run wrote)")
    parser.add_argument("--coverage-source", default=None, help="how --coverage was measured, shown in the report")
    parser.add_argument("--out", default=None, help="where to write signoff.md and signoff.html (default: beside --run)")
    args = parser.parse_args(argv)
    run_path = Path(args.run)
    try:
        run = json.loads(run_path.read_text())
    except OSError:
        print(f"no run record at {run_path}: run `pytest features` first (it writes one)", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"{run_path} is not a run record ({error})", file=sys.stderr)
        return 2
    coverage_path = args.coverage or (run.get("coverage") or {}).get("path")
    if args.coverage_source:
        run["coverage"] = {**(run.get("coverage") or {}), "source": args.coverage_source, "path": coverage_path}
    signoff = build(run, load_coverage(coverage_path))
    paths = write_reports(signoff, Path(args.out) if args.out else run_path.parent, suffix_of_record(run_path))
    for row in signoff.rows:
        print(f"{row.verdict:>12}  {row.criterion.text}")
    print(f"{signoff.headline}  ->  {', '.join(str(path) for path in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
