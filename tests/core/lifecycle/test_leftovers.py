"""Nothing left behind: SIGHUP cleans up like SIGTERM; the temp folders of a killed run are removed at the next
start (never another live run's); xdist workers die with their controller."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.server_records import RECORD_PIDS, pid_alive, records
from tests.terminal_signals import as_from_a_terminal

WAITS = "import time\ndef test_waits(record):\n    time.sleep(60)\n"


def _start(project, tmpdir: Path, record: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "RECORD_TO": str(record), "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=as_from_a_terminal,
    )


def _wait_for(record: Path, process: subprocess.Popen, count: int = 1) -> list[dict]:
    deadline = time.monotonic() + 60
    while not (record.exists() and len(record.read_text().splitlines()) >= count):
        assert time.monotonic() < deadline and process.poll() is None, "the services never started"
        time.sleep(0.05)
    return records(record)


@pytest.fixture
def private_tmp(tmp_path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


@pytest.mark.timeout(90)
def test_sighup_stops_the_services_and_removes_their_temp_folders(project, private_tmp):
    record = project.path / "pids.jsonl"
    project.makeconftest(RECORD_PIDS)
    project.makepyfile(WAITS)
    process = _start(project, private_tmp, record)
    (server,) = _wait_for(record, process)
    assert (Path(server["workdir"]) / "redis.conf").exists()
    process.send_signal(signal.SIGHUP)
    output = process.communicate(timeout=30)[0].decode()
    assert process.returncode != 0
    assert "KeyboardInterrupt" in output or "Interrupted" in output, output[-2000:]
    assert not pid_alive(server["pid"])
    assert not Path(server["workdir"]).exists(), "SIGHUP left the folder holding the run's redis password"


@pytest.mark.timeout(90)
def test_the_next_start_removes_the_folders_of_a_killed_run_and_never_a_live_ones(project, private_tmp):
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = private_tmp / f"narrative-redis-p{live_owner.pid}-live"  # another run, still going
        live.mkdir()
        (live / "redis.conf").write_text("requirepass other-run\n")
        unrelated = private_tmp / "narrative-notes"  # no owner pid in its name: never ours to judge
        unrelated.mkdir()
        record = project.path / "pids.jsonl"
        project.makeconftest(RECORD_PIDS)
        project.makepyfile(WAITS)
        process = _start(project, private_tmp, record)
        (server,) = _wait_for(record, process)
        process.kill()
        process.wait(timeout=10)
        left = Path(server["workdir"])
        deadline = time.monotonic() + 5
        while pid_alive(server["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left.exists() and (left / "redis.conf").stat().st_mode & 0o777 == 0o600, "SIGKILL cannot clean up"
        project.makepyfile("def test_waits():\n    pass\n")
        nothing = project.path / "none.jsonl"
        second = _start(project, private_tmp, nothing)
        output = second.communicate(timeout=60)[0].decode()
        assert second.returncode == 0, output[-2000:]
        assert not left.exists(), "the next start should remove the killed run's folder"
        assert (live / "redis.conf").read_text() == "requirepass other-run\n", "a live run's folder is never touched"
        assert unrelated.is_dir()
    finally:
        live_owner.kill()
        live_owner.wait()


XDIST_RECORD = """
import json, os, pytest
from narrative_fixtures.services.common import registry_of

@pytest.fixture
def record(request, redis_service):
    server = registry_of(request.config).owned("redis")
    with open(os.environ["RECORD_TO"], "a") as out:
        out.write(json.dumps({"worker": os.getpid(), "pid": server.pid, "workdir": str(server.workdir)}) + "\\n")
    return server
"""


@pytest.mark.timeout(120)
def test_xdist_workers_die_with_a_killed_controller_and_stop_their_servers(project, private_tmp):
    record = project.path / "pids.jsonl"
    project.makeconftest(XDIST_RECORD)
    project.makepyfile("import time, pytest\n@pytest.mark.parametrize('n', range(2))\n"
                       "def test_waits(record, n):\n    time.sleep(60)\n")
    process = _start(project, private_tmp, record, "-n", "2")
    seen = _wait_for(record, process, count=2)
    process.kill()
    process.wait(timeout=10)
    began = time.perf_counter()
    deadline = time.monotonic() + 10
    processes = [entry["worker"] for entry in seen] + [entry["pid"] for entry in seen]
    while any(pid_alive(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.02)
    gone_in = time.perf_counter() - began
    print(f"-n 2, controller killed: workers and their redis-servers gone in {gone_in:.2f} s")
    assert not any(pid_alive(pid) for pid in processes)  # the seconds are a figure (printed), not a bound
    # A worker that unwound removed its server's folder on its way out; one that execnet ended at once (its channel
    # closed) could not: the next start removes what a dead process left, so nothing outlives the next run.
    project.makepyfile("def test_nothing():\n    pass\n")
    second = _start(project, private_tmp, project.path / "none.jsonl")
    output = second.communicate(timeout=60)[0].decode()
    assert second.returncode == 0, output[-2000:]
    assert not any(Path(entry["workdir"]).exists() for entry in seen)
    assert json.dumps(sorted(p.name for p in private_tmp.iterdir() if p.name.startswith("narrative-"))) == "[]"


def test_a_zombie_owner_is_dead_so_its_folders_and_claims_are_stale():
    """A killed run's processes may linger as zombies where nobody reaps them (a container's pid 1): not alive."""
    from narrative_fixtures.core.run import owner_alive, owner_record, process_alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().split()[2] != "Z":  # exited, not yet reaped: a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert process_alive(child.pid) is False
        assert owner_alive(owner_record("run1", pid=child.pid)) is False
        assert process_alive(os.getpid()) is True
    finally:
        child.wait()
    assert process_alive(child.pid) is False
