"""Logs that belong to the run: another project's tree keeps only what pytest itself writes; a log dir the project
names (this repository's reports/services) is used as named; each log is capped in size."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import sys
from pathlib import Path

from narrative_fixtures.core.logs import cap_logs

APP_INI = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"  # names no log dir
USES_REDIS = "def test_uses(redis_service):\n    assert redis_service.url\n"
PYTEST_OWN = (".pytest_cache", "__pycache__")  # what pytest itself writes (its cache, rewritten test modules)


def tree(root: Path) -> set[str]:
    """Every path under ``root`` except what pytest itself writes."""
    return {
        str(path.relative_to(root)) for path in root.rglob("*")
        if not any(part in PYTEST_OWN for part in path.relative_to(root).parts)
    }


def run_in(app: Path, *args: str) -> str:
    """pytest in ``app`` as its user runs it (pytester's own runs write their output files beside the project)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", *args], cwd=app, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def another_project(project) -> Path:
    app = project.mkdir("app")
    (app / "pytest.ini").write_text(APP_INI)
    (app / "test_uses.py").write_text(USES_REDIS)
    return app


def test_another_projects_run_leaves_nothing_in_its_tree_but_pytests_own_files(project):
    app = another_project(project)
    before = tree(app)
    output = run_in(app)
    assert tree(app) == before
    (log,) = (app / ".pytest_cache/d/narrative-services/logs").glob("run-*/redis.log")
    assert f"service logs: {log.parent}" in output


def test_without_pytests_cache_the_logs_go_to_a_temp_folder(project):
    app = another_project(project)
    before = tree(app)
    output = run_in(app, "-p", "no:cacheprovider")
    assert tree(app) == before and not (app / ".pytest_cache").exists()
    match = re.search(rf"service logs: ({re.escape(tempfile.gettempdir())}/narrative-logs-p\d+-\w+)/run-\w+", output)
    assert match, output[-2000:]
    folder = Path(match[1])
    assert folder.is_dir()
    run_in(app, "-p", "no:cacheprovider")  # the next start removes the folder of the run that ended
    assert not folder.exists()


def test_a_log_dir_named_in_the_ini_is_used_and_keeps_earlier_runs(project):
    project.makeini("[pytest]\nservices_log_dir = reports/services\n")
    project.makepyfile(test_uses=USES_REDIS)
    for _ in range(2):
        project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)
    assert len(list((project.path / "reports/services").glob("run-*/redis.log"))) == 2
    assert not (project.path / ".pytest_cache/d/narrative-services").exists()


def test_the_default_log_dir_keeps_only_the_current_runs_logs(project):
    project.makeini(APP_INI)
    project.makepyfile(test_uses=USES_REDIS)
    for _ in range(2):
        project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)
    assert len(list((project.path / ".pytest_cache/d/narrative-services/logs").glob("run-*"))) == 1


def test_a_log_past_its_cap_moves_to_dot_1_and_the_writer_carries_on(tmp_path):
    log, small = tmp_path / "s3.log", tmp_path / "redis.log"
    small.write_text("ready\n")
    with open(log, "ab") as writer:  # as a server's stdout: O_APPEND
        writer.write(b"x" * 2000 + b"\n")
        writer.flush()
        assert cap_logs(tmp_path, max_bytes=1000) == [log]
        writer.write(b"after the cap\n")
    assert (tmp_path / "s3.log.1").read_bytes().startswith(b"x" * 2000)
    text = log.read_text()
    assert text.startswith("--- log capped at 1000 bytes; the earlier lines are in s3.log.1\n")
    assert text.endswith("after the cap\n") and "x" not in text.split("\n", 1)[1]
    assert small.read_text() == "ready\n" and not (tmp_path / "redis.log.1").exists()
    assert os.path.getsize(log) < 1000
