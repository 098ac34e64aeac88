"""Service logs are per run: two overlapping runs in one checkout never write into the same file, every message
that refers to a log names the run's own, and the logs of old finished runs are pruned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.core.server_records import RECORD_PIDS, records

DEFAULT_LOGS = ".pytest_cache/d/narrative-services/logs"  # another project's logs: under pytest's cache
NO_LOG_DIR_INI = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"  # the default

HOLDS = """
import os, time

def test_holds(record):
    if os.environ.get("RELEASE_NOW"):  # the second run releases the first: both are alive until then
        open(os.environ["RELEASE"], "w").close()
    while not os.path.exists(os.environ["RELEASE"]):
        time.sleep(0.05)
"""


@pytest.mark.timeout(120)
def test_two_overlapping_runs_in_one_checkout_write_separate_logs(project):
    project.makeini(NO_LOG_DIR_INI)
    project.makeconftest(RECORD_PIDS)
    project.makepyfile(HOLDS)
    first_record, second_record, release = (project.path / name for name in ("a.jsonl", "b.jsonl", "release"))
    env = {**os.environ, "RECORD_TO": str(first_record), "RELEASE": str(release)}
    first = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:randomly"],
                             cwd=project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (first_record.exists() and first_record.read_text().strip()):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        project._monkeypatch.setenv("RECORD_TO", str(second_record))
        project._monkeypatch.setenv("RELEASE", str(release))
        project._monkeypatch.setenv("RELEASE_NOW", "1")  # the second run's test releases the first
        second = project.runpytest_subprocess("-p", "no:randomly")
        second.assert_outcomes(passed=1)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    logs = sorted((project.path / DEFAULT_LOGS).glob("run-*/redis.log"))
    assert len(logs) == 2, logs
    ports = {records(first_record)[0]["port"], records(second_record)[0]["port"]}
    for log in logs:
        text = log.read_text()
        assert text.count("starting redis") == 1, text
        owner = json.loads((log.parent / "owner.json").read_text())
        assert log.parent.name == f"run-{owner['run']}"
    assert {int(log.read_text().split("127.0.0.1:")[1].split()[0]) for log in logs} == ports
    assert not (project.path / DEFAULT_LOGS / "redis.log").exists()


def test_the_services_used_summary_names_the_runs_log_folder(project):
    project.makeini(NO_LOG_DIR_INI)
    project.makepyfile("def test_uses(redis_service):\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    (folder,) = (project.path / DEFAULT_LOGS).glob("run-*")
    result.stdout.fnmatch_lines([f"service logs: {folder}"])


def test_old_finished_runs_logs_are_pruned_and_live_ones_kept(tmp_path):
    from narrative_fixtures.core.logs import claim_run_log_dir, prune_run_logs

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    folders = []
    for n in range(13):
        folder = tmp_path / f"run-old{n:02d}"
        claim_run_log_dir(folder, f"old{n:02d}", finished.pid)
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
        folders.append(folder)
    live = tmp_path / "run-live"
    claim_run_log_dir(live, "live", os.getpid())
    os.utime(live, (1, 1))  # the oldest of all, but its owner runs
    stray = tmp_path / "run-stray"  # no owner record: not ours to judge
    stray.mkdir()
    removed = prune_run_logs(tmp_path, keep=10)
    assert sorted(removed) == folders[:3]
    assert all(folder.is_dir() for folder in folders[3:]) and live.is_dir() and stray.is_dir()
