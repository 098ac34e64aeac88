"""The Redis provider's ``health(endpoint)``: None for a live server, a short reason within 0.5 s otherwise."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from narrative_fixtures.provisioning import Endpoint
from narrative_fixtures.services.redis import PROVIDER
from tests.conftest import closed_port


@pytest.fixture
def server(tmp_path):
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext

    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path)}, Path("/"))
    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint, process
    try:
        os.kill(process.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    process.stop()


def timed_health(endpoint: Endpoint) -> tuple[str | None, float]:
    began = time.perf_counter()
    reason = PROVIDER.health(endpoint)
    return reason, time.perf_counter() - began


def external(url: str) -> Endpoint:
    return Endpoint("redis", "external", url, "redis-server", "7", {"db": 0})


def test_a_live_server_is_healthy_with_or_without_the_password(server):
    endpoint, process = server
    assert timed_health(endpoint)[0] is None
    assert timed_health(external(f"redis://127.0.0.1:{process.port}/0"))[0] is None  # -NOAUTH is an answer too


def test_a_frozen_server_is_reported_within_half_a_second(server):
    endpoint, process = server
    os.kill(process.pid, signal.SIGSTOP)
    reason, took = timed_health(endpoint)
    assert reason == f"no answer to PING from 127.0.0.1:{process.port} within 0.3 s"
    assert took < 0.5
    assert url_password_absent(reason, endpoint.url)


def test_a_dead_server_is_reported_at_once(server):
    endpoint, process = server
    process.stop()
    reason, took = timed_health(endpoint)
    assert reason is not None and f"127.0.0.1:{process.port}" in reason and "refused" in reason.lower()
    assert took < 0.1


def test_a_silent_listener_and_a_non_redis_answer_are_reasons_never_exceptions():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    reason, took = timed_health(external(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"))
    assert reason and "no answer to PING" in reason and took < 0.5
    silent.close()

    talker = socket.socket()
    talker.bind(("127.0.0.1", 0))
    talker.listen(4)

    def answer():
        connection, _ = talker.accept()
        connection.recv(64)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        connection.close()

    threading.Thread(target=answer, daemon=True).start()
    reason, _ = timed_health(external(f"redis://127.0.0.1:{talker.getsockname()[1]}/0"))
    assert reason and "not as Redis does" in reason
    talker.close()

    assert PROVIDER.health(external("redis://127.0.0.1:notaport/0"))  # a reason, not a ValueError
    assert PROVIDER.health(external(f"redis://127.0.0.1:{closed_port()}/0"))


def url_password_absent(reason: str, url: str) -> bool:
    from narrative_fixtures.core.masking import url_password

    return url_password(url) not in reason
