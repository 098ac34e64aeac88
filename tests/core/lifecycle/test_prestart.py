"""Start-up speed: embedded servers spawned right after collection (prestart), refused ports detected at once."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest


from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import Endpoint, ServiceRegistry, port_accepts, refused
from tests.conftest import closed_port


class HttpServerProvider:
    """A stand-in service provider: ``python -m http.server`` as the embedded server."""

    name = "redis"

    def __init__(self) -> None:
        self.spawning_threads: list[str] = []
        self.started_in_thread: list[str] = []

    def start_embedded(self, context):
        self.started_in_thread.append(threading.current_thread().name)
        provider = self

        def command(port: int, workdir: Path) -> list[str]:
            provider.spawning_threads.append(threading.current_thread().name)
            return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]

        process = context.server_process("redis", command, lambda port: port_accepts("127.0.0.1", port)).start()
        endpoint = Endpoint("redis", "embedded", f"http://127.0.0.1:{process.port}", "http.server", "1", {}, process.started_in)
        return endpoint, process


def _registry(tmp_path: Path, provider) -> ServiceRegistry:
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, tmp_path)
    return ServiceRegistry(settings, {"redis": lambda: provider}, "master")


def test_a_prestarted_server_is_spawned_by_the_main_thread_and_waited_for_at_first_use(tmp_path):
    provider = HttpServerProvider()
    registry = _registry(tmp_path, provider)
    try:
        began = time.perf_counter()
        assert registry.prestart(["redis"]) == ["redis"]
        prestart_took = time.perf_counter() - began
        assert provider.spawning_threads == [threading.main_thread().name]  # PR_SET_PDEATHSIG follows the forker
        assert provider.started_in_thread == ["narrative-prestart-redis"]
        endpoint = registry.endpoint("redis")
        assert registry.endpoint("redis") is endpoint and provider.started_in_thread == ["narrative-prestart-redis"]
        server = registry.owned("redis")
        assert server.alive() and port_accepts("127.0.0.1", server.port)
        print(f"prestart returned in {prestart_took * 1000:.1f} ms; server ready in {endpoint.started_in * 1000:.1f} ms")
    finally:
        registry.close()
    assert not server.alive()


def test_a_prestart_the_run_never_used_is_stopped_at_the_end(tmp_path):
    provider = HttpServerProvider()
    registry = _registry(tmp_path, provider)
    registry.prestart(["redis"])
    process = registry._prestarts["redis"].spawned[0]
    registry.close()
    assert not process.alive()


def test_only_embedded_services_are_prestarted(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    provider = HttpServerProvider()
    registry = _registry(tmp_path, provider)
    settings = cfg.resolve({}, dict(__import__("os").environ), {"services_log_dir": str(tmp_path)}, tmp_path)
    registry.settings = settings
    assert registry.prestart(["redis"]) == []
    assert provider.started_in_thread == []


def test_a_refused_port_is_known_at_once_and_anything_else_left_to_the_client(monkeypatch):
    from tests.bounded_waits import socket_waits

    port, other = closed_port(), closed_port()
    with socket_waits(monkeypatch) as waits:
        reason = refused(f"mongodb://admin:secret@127.0.0.1:{port},127.0.0.1:{other}/?replicaSet=rs")
    assert reason and "refused" in reason.lower() and "secret" not in reason
    assert waits.connects == [("127.0.0.1", port), ("127.0.0.1", other)], "one bounded attempt per host, no retry"
    assert waits.bounded_by(0.25), waits  # refused()'s own timeout: never the client's seconds
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert refused(f"http://127.0.0.1:{listener.getsockname()[1]}") is None
    assert refused("mongodb+srv://cluster.example.com/db") is None  # no port to probe: the client decides
    assert refused("not a url") is None


def test_an_unreachable_external_mongodb_is_reported_without_the_server_selection_wait(project):
    project.makepyfile(
        "def test_one(mongodb_service):\n    pass\n"
        "def test_two(mongodb_service):\n    pass\n"
    )
    project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://127.0.0.1:{closed_port()}/")
    began = time.perf_counter()
    result = project.runpytest_inprocess("-rs", "-p", "no:randomly")
    took = time.perf_counter() - began
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*cannot reach MongoDB at TEST_MONGODB_URI=*Connection refused*"])
    print(f"2 tests skipped in {took:.2f} s")


PRESTART_PROBE = """
import pytest
from narrative_fixtures.services.common import registry_of


def test_before_any_use(request):
    print("PRESTARTED:" + ",".join(sorted(registry_of(request.config)._prestarts)) + ":")


@pytest.mark.asyncio
async def test_first_use(redis_client):
    await redis_client.set("k", "v")
    assert await redis_client.get("k") == "v"
"""


@pytest.mark.parametrize(("value", "prestarted"), [("true", "redis"), ("false", "")])
def test_prestart_off_starts_each_server_at_its_first_use(project, monkeypatch, value, prestarted):
    monkeypatch.setenv("TEST_PRESTART", value)
    project.makepyfile(test_probe=PRESTART_PROBE)
    result = project.runpytest_subprocess("-p", "no:randomly", "-s", "--require-services")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*PRESTARTED:{prestarted}:*"])


def test_a_bad_prestart_value_is_one_line(project, monkeypatch):
    monkeypatch.setenv("TEST_PRESTART", "sometimes")
    project.makepyfile(test_probe="def test_nothing():\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:randomly")
    assert result.ret != 0
    assert "TEST_PRESTART" in result.stderr.str() + result.stdout.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


NARROWING_CONFTEST = """
def pytest_narrative_prestart_items(session, items):
    return [item for item in items if "{keep}" in item.nodeid]
"""


@pytest.mark.parametrize(("keep", "prestarted"), [("test_first_use", "redis"), ("test_before_any_use", "")])
def test_a_plugin_that_knows_which_items_this_process_runs_narrows_the_prestart(project, keep, prestarted):
    project.makeconftest(NARROWING_CONFTEST.format(keep=keep))
    project.makepyfile(test_probe=PRESTART_PROBE)
    result = project.runpytest_subprocess("-p", "no:randomly", "-s", "--require-services")
    result.assert_outcomes(passed=2)  # a service left out of the prestart still starts at its first use
    result.stdout.fnmatch_lines([f"*PRESTARTED:{prestarted}:*"])
