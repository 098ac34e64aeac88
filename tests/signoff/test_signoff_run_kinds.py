"""One checkout, several runs: a partial or interrupted run never replaces the complete sign-off (issue 11, case 11).

The demo project (``tests/signoff/signoff_demo.py``) runs in its own pytest processes: first a complete run, then runs that
select part of the features, are interrupted (once, and a second time during pytest's own interrupt handling), or
lose their xdist controller. Each must leave the complete run's ``run.json`` and ``signoff.*`` byte for byte, write
its own record under its own name with the real exit status, and leave no ``narrative-records-*`` folder behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.signoff.signoff_demo import demo_env, write_project

MAIN_FILES = ("run.json", "signoff.md", "signoff.html")

INTERRUPTING_STEPS = '''
import pytest
from pytest_bdd import scenarios, then

scenarios("interrupted.feature")


@then("the operator presses Ctrl-C")
def ctrl_c():
    raise KeyboardInterrupt
'''

INTERRUPTED_FEATURE = """\
@redis @task:3.2
Feature: Redis fixtures for background job testing

  Scenario: The operator stops the run
    Then the operator presses Ctrl-C
"""

SECOND_CTRL_C = '''
def pytest_keyboard_interrupt(excinfo):
    raise KeyboardInterrupt  # the operator presses Ctrl-C again while pytest handles the first one
'''

SLOW_STEPS = '''
import time
from pytest_bdd import scenarios, then

scenarios("slow.feature")


@then("it takes a while")
def slow():
    time.sleep(30)
'''

SLOW_FEATURE = """\
@redis @task:3.2
Feature: Redis fixtures for background job testing

  Scenario: A slow scenario 1
    Then it takes a while

  Scenario: A slow scenario 2
    Then it takes a while
"""


def run(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "pytest", *args, "-p", "no:randomly", "-p", "no:cacheprovider",
        "--rootdir", str(project), "-c", str(project / "pytest.ini"),
    ]  # fmt: skip
    return subprocess.run(command, cwd=project, env=env or demo_env(), capture_output=True, text=True, timeout=120)


def main_reports(project: Path) -> dict[str, bytes]:
    return {name: (project / "reports" / name).read_bytes() for name in MAIN_FILES}


@pytest.fixture
def project(tmp_path) -> Path:
    """The demo project after a complete run: its reports/ holds the complete sign-off."""
    write_project(tmp_path)
    done = run(tmp_path, "features")
    assert done.returncode == 1, done.stdout[-2000:]  # one demo scenario fails by design
    assert json.loads((tmp_path / "reports" / "run.json").read_text())["kind"] == "complete"
    return tmp_path


def test_a_run_of_one_keyword_writes_a_partial_signoff_of_its_own(project):
    before = main_reports(project)
    done = run(project, "features", "-k", "queued")
    assert done.returncode == 0, done.stdout[-2000:]
    assert main_reports(project) == before, "the complete sign-off was replaced"
    record = json.loads((project / "reports" / "run.partial.json").read_text())
    assert record["kind"] == "partial" and "-k queued" in record["kind_reason"]
    assert len(record["scenarios"]) == 1
    assert (project / "reports" / "signoff.partial.md").read_text().count("**Partial run") == 1
    assert "Partial run" in (project / "reports" / "signoff.partial.html").read_text()
    assert "signoff.partial.md" in done.stdout  # the summary says where it went


def test_a_run_of_one_file_is_partial_unless_asked_to_replace_the_complete_signoff(project):
    (project / "features" / "test_other.py").write_text("def test_plain():\n    pass\n")
    before = main_reports(project)
    done = run(project, "features/test_demo.py")
    assert main_reports(project) == before, done.stdout[-2000:]
    assert json.loads((project / "reports" / "run.partial.json").read_text())["kind"] == "partial"
    asked = run(project, "features/test_demo.py", "--signoff-as-complete")
    assert asked.returncode == 1, asked.stdout[-2000:]
    assert main_reports(project) != before
    assert "Partial run" in (project / "reports" / "signoff.md").read_text()  # replaced, and says what it is


def test_an_interrupted_run_writes_its_own_signoff_with_its_real_status(project):
    (project / "features" / "interrupted.feature").write_text(INTERRUPTED_FEATURE)
    (project / "features" / "test_interrupted.py").write_text(INTERRUPTING_STEPS)
    before = main_reports(project)
    done = run(project, "features")
    assert done.returncode == 2, done.stdout[-2000:]
    assert main_reports(project) == before, "an interrupted run replaced the complete sign-off"
    record = json.loads((project / "reports" / "run.interrupted.json").read_text())
    assert record["kind"] == "interrupted" and record["exit_status"] == 2
    assert "**Interrupted run" in (project / "reports" / "signoff.interrupted.md").read_text()


def test_a_second_ctrl_c_during_the_interrupt_handling_records_the_interruption(project):
    (project / "features" / "interrupted.feature").write_text(INTERRUPTED_FEATURE)
    (project / "features" / "test_interrupted.py").write_text(INTERRUPTING_STEPS)
    (project / "conftest.py").write_text((project / "conftest.py").read_text() + SECOND_CTRL_C)
    before = main_reports(project)
    done = run(project, "features")
    assert done.returncode != 0, done.stdout[-2000:]
    assert main_reports(project) == before, "a run interrupted twice replaced the complete sign-off"
    record = json.loads((project / "reports" / "run.interrupted.json").read_text())
    assert record["exit_status"] == 2, record["exit_status"]


def _records_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("narrative-records-*"))


@pytest.mark.timeout(120)
def test_an_xdist_controller_stopped_by_sigterm_leaves_no_records_folder(tmp_path):
    write_project(tmp_path)
    (tmp_path / "features" / "slow.feature").write_text(SLOW_FEATURE)
    (tmp_path / "features" / "test_slow.py").write_text(SLOW_STEPS)
    before = _records_folders()
    command = [
        sys.executable, "-m", "pytest", "features", "-n", "2", "-v", "-p", "no:randomly", "-p", "no:cacheprovider",
        "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, env=demo_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = ""
        while " PASSED " not in output:  # a scenario has finished (the slow ones are still running)
            line = process.stdout.readline()
            assert line, output[-2000:]
            output += line
        ours = [p for p in _records_folders() - before if f"-p{process.pid}-" in p.name]
        assert ours, "the controller's records folder is named with its pid"
        os.kill(process.pid, signal.SIGTERM)
        output += process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0, output[-2000:]
    assert not any(path.exists() for path in ours), output[-2000:]
    record = json.loads((tmp_path / "reports" / "run.interrupted.json").read_text())
    assert record["kind"] == "interrupted" and record["exit_status"] == 2
