"""Embedded provisioning as users meet it: lazy start, once per run, logs, no orphan process, no temp data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.provisioning import ServerProcess, free_port, port_accepts
from tests.core.server_records import RECORD_PIDS, pid_alive, records
from tests.terminal_signals import as_from_a_terminal


def test_a_run_without_redis_tests_starts_no_redis(project):
    project.makepyfile("def test_plain():\n    assert True\n")
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert not list((project.path / "reports/services").glob("**/redis.log"))
    assert "narrative services used" not in result.stdout.str()


def test_redis_starts_once_for_the_whole_run_and_logs_to_reports(project):
    record = project.path / "pids.jsonl"
    project.makeconftest(RECORD_PIDS)
    project.makepyfile(
        "def test_one(record):\n    pass\n"
        "def test_two(record):\n    pass\n"
        "def test_three(record):\n    pass\n"
    )
    project._monkeypatch.setenv("RECORD_TO", str(record))
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=3)
    seen = records(record)
    assert len({entry["pid"] for entry in seen}) == 1, "one redis-server for the whole run"
    (log_path,) = (project.path / "reports/services").glob("run-*/redis.log")  # one folder per run
    log = log_path.read_text()
    assert log.count("starting redis") == 1 and "Ready to accept connections" in log
    result.stdout.fnmatch_lines(["*redis: redis-server 7.* at redis://:***@127.0.0.1:*/0 (embedded, ready in *s)"])


@pytest.mark.parametrize("outcome", ["passing", "failing"])
def test_no_orphan_and_no_temp_data_after_the_run(project, outcome):
    record = project.path / "pids.jsonl"
    project.makeconftest(RECORD_PIDS)
    project.makepyfile(f"def test_uses_redis(record):\n    assert {outcome == 'passing'}\n")
    project._monkeypatch.setenv("RECORD_TO", str(record))
    project.runpytest_subprocess()
    (server,) = records(record)
    assert not pid_alive(server["pid"])
    assert not Path(server["workdir"]).exists()
    assert not port_accepts("127.0.0.1", server["port"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_stops_its_services(project, signum):
    record = project.path / "pids.jsonl"
    project.makeconftest(RECORD_PIDS)
    project.makepyfile("import time\ndef test_waits(record):\n    time.sleep(60)\n")
    env = {**os.environ, "RECORD_TO": str(record)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=as_from_a_terminal,
    )
    deadline = time.monotonic() + 30
    while not (record.exists() and record.read_text().strip()):
        assert time.monotonic() < deadline and process.poll() is None, "the test never started"
        time.sleep(0.05)
    process.send_signal(signum)
    output = process.communicate(timeout=20)[0].decode()
    assert process.returncode != 0
    (server,) = records(record)
    deadline = time.monotonic() + 5
    while pid_alive(server["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(server["pid"]), output
    assert not Path(server["workdir"]).exists()


def test_killed_pytest_takes_its_server_down(project):
    record = project.path / "pids.jsonl"
    project.makeconftest(RECORD_PIDS)
    project.makepyfile("import time\ndef test_waits(record):\n    time.sleep(60)\n")
    env = {**os.environ, "RECORD_TO": str(record)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly"], cwd=project.path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (record.exists() and record.read_text().strip()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=10)
    (server,) = records(record)
    deadline = time.monotonic() + 5
    while pid_alive(server["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(server["pid"]), "PR_SET_PDEATHSIG should have killed the server with pytest"


def _listen_then_check(port: int) -> bool:
    return port_accepts("127.0.0.1", port, timeout=0.2)


def test_a_server_that_exits_at_start_gives_a_one_line_error(tmp_path):
    server = ServerProcess(
        "broken", lambda port, workdir: [sys.executable, "-c", "import sys; print('boom: bad flag'); sys.exit(3)"],
        _listen_then_check, log_path=tmp_path / "broken.log", timeout=5, setting="TEST_BROKEN_MODE",
    )
    with pytest.raises(ServiceUnavailable) as error:
        server.start()
    message = str(error.value)
    assert "\n" not in message
    assert "exited with code 3" in message and "boom: bad flag" in message and "broken.log" in message
    assert server.workdir is None


def test_a_server_that_never_becomes_ready_times_out(tmp_path):
    server = ServerProcess(
        "sleepy", lambda port, workdir: [sys.executable, "-c", "import time; time.sleep(30)"],
        lambda port: False, log_path=tmp_path / "sleepy.log", timeout=0.3, setting="TEST_SLEEPY_MODE",
    )
    with pytest.raises(ServiceUnavailable, match=r"did not become ready within 0.3s .*TEST_SERVICE_START_TIMEOUT"):
        server.start()
    assert not pid_alive(server.pid)


def test_a_taken_port_makes_the_server_retry_on_another(tmp_path, monkeypatch):
    import socket

    from narrative_fixtures.core import processes

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    ports = iter([taken, free_port()])
    monkeypatch.setattr(processes, "free_port", lambda: next(ports))
    script = (
        "import socket, sys, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)\n"
        "try:\n    s.bind(('127.0.0.1', int(sys.argv[1])))\n"
        "except OSError as e:\n    print('bind failed: Address already in use'); sys.exit(1)\n"
        "s.listen(); print('listening', sys.argv[1], flush=True); time.sleep(30)\n"
    )
    log = tmp_path / "toy.log"

    def ready(port):  # identity check: the port answering must be *our* server, not the blocker
        return log.exists() and f"listening {port}" in log.read_text()

    server = ServerProcess(
        "toy", lambda port, workdir: [sys.executable, "-c", script, str(port)], ready,
        log_path=log, timeout=10, setting="TEST_TOY_MODE",
    )
    try:
        server.start()
        assert server.port != taken and server.alive()
    finally:
        server.stop()
        blocker.close()
    assert not server.alive()


def test_no_free_port_after_every_attempt_names_the_setting_and_the_log(tmp_path, monkeypatch):
    import socket

    from narrative_fixtures.core import processes

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    monkeypatch.setattr(processes, "free_port", lambda: blocker.getsockname()[1])
    script = "print('bind failed: Address already in use'); raise SystemExit(1)"
    server = ServerProcess(
        "toy", lambda port, workdir: [sys.executable, "-c", script], lambda port: False,
        log_path=tmp_path / "toy.log", timeout=10, setting="TEST_TOY_URL",
    )
    try:
        with pytest.raises(ServiceUnavailable) as error:
            server.start()
    finally:
        blocker.close()
    message = str(error.value)
    assert "\n" not in message and "no free port on 127.0.0.1 after 3 attempts" in message
    assert "set TEST_TOY_URL to use a server of your own" in message and "toy.log" in message
