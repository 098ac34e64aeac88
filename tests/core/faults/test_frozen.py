"""A frozen (SIGSTOP) or dead server: the test that meets it fails, the registry asks the service whether it still
answers, and every later test of it fails at once with one line naming the setting, without a client call."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.errors import ServiceDied
from narrative_fixtures.provisioning import Endpoint, ServiceRegistry, port_accepts
from tests.conftest import closed_port


class HttpServerProvider:
    """A stand-in embedded service (``python -m http.server``); ``health`` counts its calls."""

    name = "redis"

    def __init__(self, with_health: bool = True) -> None:
        self.health_calls = 0
        if not with_health:
            self.health = None

    def start_embedded(self, context):
        command = lambda port, workdir: [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]  # noqa: E731
        process = context.server_process("redis", command, lambda port: port_accepts("127.0.0.1", port)).start()
        return Endpoint("redis", "embedded", f"http://127.0.0.1:{process.port}", "http.server", "1"), process

    def connect_external(self, config, context):
        return Endpoint("redis", "external", config["url"], "stand-in", "1")

    def health(self, endpoint):
        self.health_calls += 1
        with socket.socket() as sock:
            sock.settimeout(0.3)
            try:
                sock.connect(("127.0.0.1", int(endpoint.url.rsplit(":", 1)[1].split("/")[0])))
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return None if sock.recv(16) else "closed the connection"
            except OSError as error:
                return f"no answer within 0.3 s ({error})"


def _wait_until_stopped(pid: int) -> None:
    """SIGSTOP takes effect asynchronously: wait until the kernel says the process is stopped."""
    import time

    import psutil

    deadline = time.monotonic() + 5
    while psutil.Process(pid).status() != psutil.STATUS_STOPPED and time.monotonic() < deadline:
        time.sleep(0.005)


def _registry(tmp_path: Path, provider, env=None) -> ServiceRegistry:
    settings = cfg.resolve({}, env or {}, {"services_log_dir": str(tmp_path / "logs")}, tmp_path)
    return ServiceRegistry(settings, {"redis": lambda: provider}, "master")


def test_a_frozen_embedded_server_fails_the_following_uses_at_once_with_no_further_probe(tmp_path):
    provider = HttpServerProvider()
    registry = _registry(tmp_path, provider)
    try:
        registry.endpoint("redis")
        server = registry.owned("redis")
        os.kill(server.pid, signal.SIGSTOP)
        _wait_until_stopped(server.pid)
        registry.suspect("redis")  # what the plugin does after a test of redis failed
        with pytest.raises(ServiceDied) as first:
            registry.endpoint("redis")
        message = str(first.value)
        assert "\n" not in message
        assert message.startswith(f"redis: the embedded server (pid {server.pid}) at http://127.0.0.1:{server.port}")
        assert f"stopped answering (process {server.pid} is stopped (SIGSTOP)); log: " in message
        assert message.endswith("the following tests fail at once")
        checks = registry.health_checks
        for _ in range(12):  # the following tests: the same error, no health check, no client call
            with pytest.raises(ServiceDied) as again:
                registry.endpoint("redis")
            assert again.value is first.value
        assert registry.health_checks == checks == 1 and provider.health_calls == 0  # psutil saw it: no round trip
    finally:
        registry.close()
    assert not server.alive(), "a frozen server is still stopped at the end (SIGCONT after SIGTERM)"


def test_a_healthy_service_stays_in_use_after_a_failed_test(tmp_path):
    provider = HttpServerProvider()
    registry = _registry(tmp_path, provider)
    try:
        endpoint = registry.endpoint("redis")
        registry.suspect("redis")
        assert registry.endpoint("redis") is endpoint and provider.health_calls == 1
        assert registry.endpoint("redis") is endpoint and provider.health_calls == 1, "asked once per failure"
    finally:
        registry.close()


@pytest.mark.parametrize("with_health", [True, False], ids=["provider-health", "tcp-fallback"])
def test_a_dead_external_service_names_its_setting(tmp_path, with_health):
    provider = HttpServerProvider(with_health=with_health)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    registry = _registry(tmp_path, provider, {"TEST_REDIS_URL": f"redis://:Pa55-word@127.0.0.1:{port}/0"})
    registry.endpoint("redis")
    listener.close()  # the external server goes away
    registry.suspect("redis")
    with pytest.raises(ServiceDied) as stopped:
        registry.endpoint("redis")
    message = str(stopped.value)
    assert message.startswith(f"redis at TEST_REDIS_URL=redis://:***@127.0.0.1:{port}/0 stopped answering (")
    assert message.endswith("; the following tests fail at once") and "Pa55-word" not in message
    assert provider.health_calls == (1 if with_health else 0)


def test_a_health_check_that_hangs_counts_as_frozen_within_its_budget(tmp_path, monkeypatch):
    """The registry waits for the health check only its budget (the join's timeout), never for the hang to end."""
    import threading

    from narrative_fixtures.core.health import HEALTH_BUDGET_S

    released = threading.Event()
    provider = HttpServerProvider()
    provider.health = lambda endpoint: released.wait(60)
    joins, real_join = [], threading.Thread.join

    def join(thread, timeout=None):
        if thread.name.startswith("narrative-health-"):
            joins.append(timeout)
        return real_join(thread, timeout)

    registry = _registry(tmp_path, provider, {"TEST_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
    registry.endpoint("redis")
    registry.suspect("redis")
    monkeypatch.setattr(threading.Thread, "join", join)
    try:
        with pytest.raises(ServiceDied, match=r"stopped answering \(no answer to a health check within 1 s\)"):
            registry.endpoint("redis")
        hanging = [thread for thread in threading.enumerate() if thread.name == "narrative-health-redis"]
        assert joins == [HEALTH_BUDGET_S] and hanging and hanging[0].is_alive(), "answered while the check hung"
    finally:
        released.set()


# Notes, around each test's setup, the service's remembered failure (its id), the registry's health checks so far and
# the connections the main thread made (a client call connects): what "fail at once, without a client call" means.
FROZEN_RUN = """
import json, os, socket, threading
import pytest
from narrative_fixtures.services.common import registry_of

SERVICE = os.environ["FROZEN_SERVICE"]
CONNECTS = []
BEFORE = {}
_real_connect, _main = socket.socket.connect, threading.get_ident()


def _connect(sock, address):
    if threading.get_ident() == _main:
        CONNECTS.append(address)
    return _real_connect(sock, address)


socket.socket.connect = _connect


def _state(config):
    registry = registry_of(config)
    failure = registry.failure(SERVICE)
    return {"failure": None if failure is None else id(failure), "health_checks": registry.health_checks,
            "connects": len(CONNECTS)}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    BEFORE[item.nodeid] = _state(item.config)


def pytest_runtest_logreport(report):
    if report.when == "setup":
        with open(os.environ["RECORD_TO"], "a") as out:
            out.write(json.dumps({"test": report.nodeid.split("::")[-1], "before": BEFORE[report.nodeid],
                                  "after": _state(CONFIG[0])}) + "\\n")


CONFIG = []


def pytest_configure(config):
    CONFIG.append(config)
"""

FROZEN_TESTS = """
import os, signal
import pytest
from narrative_fixtures.services.common import registry_of


@pytest.mark.asyncio
async def test_00_warm(redis_client):
    assert await redis_client.ping()


def test_01_freeze(request, redis_service):
    os.kill(registry_of(request.config).owned("redis").pid, signal.SIGSTOP)


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(12))
async def test_02_after(redis_client, n):
    await redis_client.set("k", n)
"""


@pytest.mark.timeout(120)
def test_twelve_tests_after_a_frozen_embedded_redis_fail_at_once_naming_the_server(project, tmp_path):
    record = tmp_path / "setups.jsonl"
    project.makeconftest(FROZEN_RUN)
    project.makepyfile(test_frozen=FROZEN_TESTS)
    project._monkeypatch.setenv("RECORD_TO", str(record))
    project._monkeypatch.setenv("FROZEN_SERVICE", "redis")
    result = project.runpytest_subprocess("-p", "no:randomly", "-rE")
    result.assert_outcomes(passed=2, errors=12)
    _assert_served_from_memory(record)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(["*redis: the embedded server (pid *) at redis://:***@127.0.0.1:*/0 stopped answering"
                                 " (process * is stopped (SIGSTOP)); log: *redis.log; the following tests fail at once"])
    assert output.count("stopped answering") >= 11
    assert "Traceback" not in output.split("short test summary")[0].split("test_02_after[1]")[-1]


FROZEN_EXTERNAL_MONGODB = """
import os, signal
import pytest


@pytest.mark.asyncio
async def test_00_warm(setup_database):
    assert await setup_database.command("ping")


def test_01_freeze(mongodb_service):
    os.kill(int(os.environ["FREEZE_PID"]), signal.SIGSTOP)


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(12))
async def test_02_after(setup_database, n):
    await setup_database.scratch.insert_one({"n": n})
"""


@pytest.mark.timeout(180)
def test_twelve_tests_after_a_frozen_external_mongodb_fail_at_once_naming_the_setting(project, tmp_path):
    """The issue's case: an external server frozen by SIGSTOP cost ~2 s per MongoDB test (12 tests: 24.4 s)."""
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.mongodb import PROVIDER
    from tests.mongodb_support import point_nested_runs_at, settings

    point_nested_runs_at(project)
    endpoint, server = PROVIDER.start_embedded(ProvisionContext(settings(), "master"))
    try:
        record = tmp_path / "setups.jsonl"
        project.makeconftest(FROZEN_RUN)
        project.makepyfile(test_frozen=FROZEN_EXTERNAL_MONGODB)
        project._monkeypatch.setenv("RECORD_TO", str(record))
        project._monkeypatch.setenv("FROZEN_SERVICE", "mongodb")
        project._monkeypatch.setenv("FREEZE_PID", str(server.pid))
        project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://127.0.0.1:{server.port}/")
        result = project.runpytest_subprocess("-p", "no:randomly", "-rE")
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.stop()
    result.assert_outcomes(passed=2, errors=12)
    _assert_served_from_memory(record)
    result.stdout.fnmatch_lines([f"*mongodb at TEST_MONGODB_URI=mongodb://127.0.0.1:{server.port}/ stopped answering"
                                 " (*); the following tests fail at once"])


def _assert_served_from_memory(record) -> None:
    """The test after the freeze met it with a client call; the next one's setup asked the service once (one health
    check, in its own bounded thread) and no client connected; the 10 after it were served that same remembered
    failure with no health check and no connection at all."""
    setups = {entry["test"]: entry for entry in map(json.loads, record.read_text().splitlines())}
    after = [setups[f"test_02_after[{n}]"] for n in range(12)]
    asked = after[1]
    assert asked["before"]["failure"] is None and asked["after"]["failure"] is not None, asked
    assert asked["after"]["health_checks"] - asked["before"]["health_checks"] == 1, asked
    assert asked["after"]["connects"] == asked["before"]["connects"], asked
    for entry in after[2:]:
        assert entry["before"] == entry["after"], entry  # no health check, no connection during its setup
        assert entry["before"]["failure"] == asked["after"]["failure"], "the same remembered failure"
        assert entry["before"]["health_checks"] == asked["after"]["health_checks"], entry
