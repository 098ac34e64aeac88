"""What a run covered: the whole acceptance spec (complete), a selection of it (partial), or it stopped (interrupted).

Only a complete run may write the shared ``reports/run.json`` and ``reports/signoff.md`` / ``.html``. A partial run
writes ``run.partial.json`` and ``signoff.partial.*`` (unless ``--signoff-as-complete`` asks it to replace the
complete sign-off), an interrupted one ``run.interrupted.json`` and ``signoff.interrupted.*``; both say so in the
sign-off's headline, so a reader never mistakes them for the complete run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from narrative_fixtures.core.masking import mask

COMPLETE = "complete"
PARTIAL = "partial"
INTERRUPTED = "interrupted"
FEATURES_DIR = "features"  # the acceptance spec: a run covers it whole, or it is partial


def narrowed_selection(config: pytest.Config, deselected: int = 0) -> str:
    """Why this run selected only part of the acceptance spec ("" when it selected all of it)."""
    option = config.option
    reasons = []
    if getattr(option, "keyword", ""):
        reasons.append(f"-k {option.keyword}")
    if getattr(option, "markexpr", ""):
        reasons.append(f"-m {option.markexpr}")
    if getattr(option, "deselect", None):
        reasons.append("--deselect " + " ".join(option.deselect))
    if getattr(option, "lf", False) or getattr(option, "stepwise", False):
        reasons.append("--lf" if getattr(option, "lf", False) else "--stepwise")
    features = (Path(config.rootpath) / FEATURES_DIR).resolve()
    base = Path(config.invocation_params.dir)
    paths = [(arg, (base / arg.split("::", 1)[0]).resolve()) for arg in config.args]
    if not any("::" not in arg and (path == features or path in features.parents) for arg, path in paths):
        reasons.append("only " + " ".join(arg for arg, _ in paths))
    if deselected and not reasons:
        reasons.append(f"{deselected} scenarios deselected")
    return "; ".join(reasons)


def interrupted_by(excinfo) -> bool:
    """True when ``pytest_keyboard_interrupt`` reports a real interruption (Ctrl-C, SIGTERM, ``pytest.exit``)."""
    value = getattr(excinfo, "value", None)
    if isinstance(value, KeyboardInterrupt):
        return True
    returncode = getattr(value, "returncode", None)
    return isinstance(value, pytest.exit.Exception) and returncode in (None, int(pytest.ExitCode.INTERRUPTED))


def run_kind(config: pytest.Config, session: pytest.Session, exitstatus: int, interrupted: bool, deselected: int):
    """``(kind, reason, exit status)`` of a finished run; the status is INTERRUPTED when the run really was.

    pytest records status 0 when a second Ctrl-C hits its own interrupt handling; ``interrupted`` (seen by our
    ``pytest_keyboard_interrupt``) and an exception still in flight tell the truth.
    """
    in_flight = sys.exc_info()[1]
    if interrupted or int(exitstatus) == int(pytest.ExitCode.INTERRUPTED) or isinstance(in_flight, KeyboardInterrupt):
        status = exitstatus if int(exitstatus) not in (0, 1) else int(pytest.ExitCode.INTERRUPTED)
        return INTERRUPTED, "the run was interrupted before it finished", int(status)
    stopped = session.shouldfail or session.shouldstop
    if stopped:
        return INTERRUPTED, f"the run stopped early ({stopped})", int(exitstatus)
    reason = narrowed_selection(config, deselected)
    if reason:
        return PARTIAL, mask(reason) or "", int(exitstatus)
    return COMPLETE, "", int(exitstatus)


def suffix(kind: str, as_complete: bool = False) -> str:
    """The part of the file names that keeps a run's record apart: ``""``, ``".partial"``, ``".interrupted"``."""
    if kind == COMPLETE or (kind == PARTIAL and as_complete):
        return ""
    return f".{kind}"


def suffix_of_record(path: Path) -> str:
    """``run.partial.json`` -> ``.partial`` (the sign-off rebuilt from a record keeps the record's name)."""
    name = path.name
    if name.startswith("run.") and name.endswith(".json") and name != "run.json":
        return "." + name[len("run.") : -len(".json")]
    return ""


def headline_prefix(run: dict) -> str:
    """``Partial run (-k queued): `` / ``Interrupted run (...): `` for the sign-off's headline; "" when complete."""
    kind = run.get("kind") or COMPLETE
    if kind == COMPLETE:
        return ""
    reason = run.get("kind_reason") or ""
    return f"{kind.capitalize()} run ({reason}), not the complete sign-off: " if reason else f"{kind.capitalize()} run: "
