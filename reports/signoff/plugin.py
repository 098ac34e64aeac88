"""pytest plugin: records every scenario of a run and writes the sign-off when the run ends.

Registered from the root ``conftest.py``. A run that executed at least one pytest-bdd scenario writes
``reports/run.json`` (the run record: outcomes, fixtures each scenario used, services, git, coverage), then
``reports/signoff.md`` and ``reports/signoff.html``. ``python -m reports.signoff`` rebuilds the two reports from
the record. Nested runs (pytester sessions started by a scenario) and xdist workers never write. A partial or
interrupted run writes under its own names (``run.partial.json``, ``signoff.interrupted.md``...: see ``scope``).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from narrative_fixtures.core.masking import mask
from narrative_fixtures.core.run import run_tempdir

from . import collect, scope
from .model import one_line

RECORDER_KEY = pytest.StashKey["RunRecorder"]()
OUTER_RUN_ENV = "NARRATIVE_SIGNOFF_RUN"  # set by the writing run, so a subprocess pytest knows it is nested
SHARED_DIR_KEY = "narrative_records_dir"  # xdist workerinput: where every worker appends its finished records
WROTE_ENV = "NARRATIVE_SIGNOFF_WROTE"  # a file where the run notes the record it wrote (reports/acceptance-job.sh)
_RUNS: list[pytest.Config] = []  # the runs in progress in this interpreter (pytester runs in-process nest)


def _outcome(report: pytest.TestReport) -> str:
    if report.passed:
        return "xpassed" if hasattr(report, "wasxfail") else "passed"
    if report.skipped:
        return "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return "failed" if report.when == "call" else "error"


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3:
        message = str(longrepr[2])
        return message[len("Skipped: ") :] if message.startswith("Skipped: ") else message
    if hasattr(report, "wasxfail"):
        return f"expected to fail: {report.wasxfail}"
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return crash.message
    text = str(longrepr).strip().splitlines()
    return text[-1] if text else ""


class RunRecorder:
    """Collects one record per scenario (works on xdist: items' data travels in ``user_properties``)."""

    PROPERTY_META = "narrative_scenario"
    PROPERTY_FIXTURES = "narrative_fixtures_used"
    PROPERTY_FIGURE = "narrative_figure"  # a figure a scenario measured (steps append it to user_properties)

    def __init__(self, config: pytest.Config | None = None) -> None:
        self.config = config
        self.started = time.time()
        self.records: dict[str, dict] = {}
        self.registered_fixtures: list[str] = []
        self.finished: set[str] = set()  # nodeids whose teardown was reported
        self.shared_dir: Path | None = None  # xdist: the run's directory of per-worker record files
        self._owns_shared_dir = False
        self.interrupted = False  # pytest_keyboard_interrupt was called (Ctrl-C, SIGTERM, pytest.exit)
        self.deselected = 0
        if config is not None:
            self._learn_shared_dir(config)

    def _learn_shared_dir(self, config: pytest.Config) -> None:
        shared = getattr(config, "workerinput", {}).get(SHARED_DIR_KEY)
        self.shared_dir = Path(shared) if shared else None

    def pytest_configure(self, config: pytest.Config) -> None:
        if self.config is None:  # a recorder handed to a nested run learns its config here
            self.config = config
            self._learn_shared_dir(config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """xdist controller: give every worker the same directory (keyed by this run) to share its records."""
        if self.shared_dir is None:
            self.shared_dir = run_tempdir("records")  # named with our pid: a later start removes it if we die
            self._owns_shared_dir = True
            atexit.register(self.remove_shared_dir)  # also when pytest never reaches unconfigure
        node.workerinput[SHARED_DIR_KEY] = str(self.shared_dir)

    def remove_shared_dir(self) -> None:
        if self._owns_shared_dir and self.shared_dir is not None:
            shutil.rmtree(self.shared_dir, ignore_errors=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.remove_shared_dir()

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo) -> None:
        """Note the interruption first: a second Ctrl-C in the other implementations must not hide it."""
        if scope.interrupted_by(excinfo):
            self.interrupted = True

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        if call.when == "setup":
            meta = collect.scenario_meta(item)
            if meta is not None:
                item.user_properties.append((self.PROPERTY_META, meta))
        elif call.when == "teardown":
            item.user_properties.append((self.PROPERTY_FIXTURES, collect.fixtures_used(item)))
        return (yield)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.registered_fixtures = collect.plugin_fixtures(session)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        meta = properties.get(self.PROPERTY_META)
        if meta is None:
            return
        record = self.records.get(report.nodeid)
        if record is None:
            record = self.records[report.nodeid] = {
                "nodeid": report.nodeid,
                **meta,
                "outcome": None,
                "reason": "",
                "duration": 0.0,
                "fixtures": [],
                "figures": [],
            }
        record["duration"] += report.duration
        outcome = _outcome(report)
        if report.when == "call" or (report.when == "setup" and outcome != "passed"):
            self._set(record, outcome, report)
        elif report.when == "teardown":
            if outcome != "passed" and record["outcome"] not in ("failed", "error"):
                self._set(record, "error", report)
            record["fixtures"] = properties.get(self.PROPERTY_FIXTURES, [])
            record["figures"] = [str(value) for key, value in report.user_properties if key == self.PROPERTY_FIGURE]
            if record["outcome"] is None:  # pragma: no cover - a call report always comes between
                record["outcome"] = "passed"
            self.finished.add(report.nodeid)
            self._share(record)

    def _share(self, record: dict) -> None:
        """xdist worker: append the finished record to this worker's file, so the other workers can read it."""
        if self.shared_dir is None or self._owns_shared_dir:
            return
        worker = getattr(self.config, "workerinput", {}).get("workerid", "worker")
        with open(self.shared_dir / f"{worker}.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")  # one write of one line: readers never see half a record

    def _set(self, record: dict, outcome: str, report: pytest.TestReport) -> None:
        secrets = collect.known_secrets(self.config) if self.config is not None else []
        record["outcome"] = outcome
        record["reason"] = one_line(mask(_reason(report), secrets), 400) if outcome != "passed" else ""

    # --- results ----------------------------------------------------------------------------------------

    def scenarios(self) -> list[dict]:
        return [dict(record) for record in self.records.values()]

    def run_records(self) -> dict[str, dict]:
        """The finished records of the whole run so far: this process's, and under xdist every worker's."""
        records: dict[str, dict] = {}
        if self.shared_dir is not None and self.shared_dir.is_dir():
            for path in sorted(self.shared_dir.glob("*.jsonl")):
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        record = json.loads(line)
                    except ValueError:  # a line being written right now: read again on the next poll
                        continue
                    records[record["nodeid"]] = record
        for nodeid, record in self.records.items():
            if nodeid in self.finished and nodeid not in records:
                records[nodeid] = dict(record)
        return records

    def outcomes(self) -> dict[str, str]:
        return {nodeid: record["outcome"] for nodeid, record in self.records.items()}

    def passing_fixtures(self) -> dict[str, list[str]]:
        """fixture name -> passing scenarios (``feature: scenario``) that used it."""
        used: dict[str, list[str]] = {}
        for record in self.records.values():
            if record["outcome"] == "passed":
                for name in record["fixtures"]:
                    used.setdefault(name, []).append(f"{record['feature']}: {record['scenario']}")
        return used


def _is_nested(config: pytest.Config) -> bool:
    outer = os.environ.get(OUTER_RUN_ENV)
    return bool(_RUNS) or (outer is not None and outer != str(os.getpid()) and not hasattr(config, "workerinput"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("narrative sign-off").addoption(
        "--signoff-as-complete", action="store_true", default=False,
        help="a run of part of the features (-k, -m, one file) writes reports/run.json and signoff.md/.html,"
        " replacing the complete sign-off (default: run.partial.json and signoff.partial.*)",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    if _is_nested(config):
        # a nested run records too (the examples criterion reads the records of its own run), but never writes
        if not any(isinstance(plugin, RunRecorder) for plugin in config.pluginmanager.get_plugins()):
            config.pluginmanager.register(RunRecorder(config), "narrative-signoff-recorder")
        return
    _RUNS.append(config)
    if not hasattr(config, "workerinput"):  # only this run notes what it wrote, not the runs it starts
        config.stash[_WROTE_NOTE_KEY] = os.environ.pop(WROTE_ENV, "")
    recorder = RunRecorder(config)
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(recorder, "narrative-signoff-recorder")
    if not hasattr(config, "workerinput"):
        os.environ[OUTER_RUN_ENV] = str(os.getpid())


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _RUNS:
        _RUNS.remove(config)
        if os.environ.get(OUTER_RUN_ENV) == str(os.getpid()):
            del os.environ[OUTER_RUN_ENV]


def reports_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "reports"


def run_record(config: pytest.Config, recorder: RunRecorder, exitstatus: int, coverage: dict, kind=None) -> dict:
    """The run record: outcomes, services, git, coverage, and what the run covered (``kind``, see ``scope``)."""
    secrets = collect.known_secrets(config)
    finished = time.time()
    args = [mask(str(arg), secrets) for arg in config.invocation_params.args]
    kind, kind_reason = kind or (scope.COMPLETE, "")
    return {
        "schema": 1,
        "kind": kind,
        "kind_reason": mask(kind_reason, secrets) or "",
        "started": collect.now_iso(recorder.started),
        "finished": collect.now_iso(finished),
        "duration_s": round(finished - recorder.started, 3),
        "command": "pytest " + " ".join(args),
        "exit_status": int(exitstatus),
        "python": sys.version.split()[0],
        "pytest": pytest.__version__,
        "git": collect.git_info(Path(config.rootpath)),
        "services": collect.services_info(config),
        "scenarios": recorder.scenarios(),
        "registered_fixtures": recorder.registered_fixtures,
        "coverage": coverage,
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None or hasattr(config, "workerinput") or config.option.collectonly or not recorder.records:
        return
    from .render import load_coverage, write_reports
    from .model import build

    kind, reason, exitstatus = scope.run_kind(config, session, exitstatus, recorder.interrupted, recorder.deselected)
    suffix = scope.suffix(kind, config.getoption("signoff_as_complete", False))
    out = reports_dir(config)
    out.mkdir(parents=True, exist_ok=True)
    coverage = collect.write_coverage(config, out / f"coverage{suffix}.json", recorder.started)
    record = run_record(config, recorder, exitstatus, coverage, (kind, reason))
    record_path = out / f"run{suffix}.json"
    _write_atomically(record_path, json.dumps(record, indent=2) + "\n")
    signoff = build(record, load_coverage(coverage.get("path")))
    paths = write_reports(signoff, out, suffix)
    config.stash[_WRITTEN_KEY] = (signoff, paths)
    note = config.stash.get(_WROTE_NOTE_KEY, "")
    if note:
        Path(note).write_text(str(record_path) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing (a reader, or a run stopped right now, never sees half a record)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)


_WRITTEN_KEY = pytest.StashKey[tuple]()
_WROTE_NOTE_KEY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    written = config.stash.get(_WRITTEN_KEY, None)
    if written is None:
        return
    signoff, paths = written
    terminalreporter.write_sep("-", "Story 9.3 sign-off")
    for row in signoff.rows:
        terminalreporter.write_line(f"{row.verdict:>12}  {row.criterion.text}")
    terminalreporter.write_line(f"{signoff.headline}  ->  {', '.join(str(p) for p in paths)}")
