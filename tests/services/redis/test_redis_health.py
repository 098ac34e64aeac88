"""The Redis provider's ``health(endpoint)``: None for a live server, else a short reason, never waiting longer
than its 0.3 s bound on any socket (the bound is asserted, not timed: bench/timing.py measures the seconds)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest

from narrative_fixtures.provisioning import Endpoint
from narrative_fixtures.services.redis import PROVIDER
from narrative_fixtures.services.redis.ping import HEALTH_TIMEOUT_S
from tests.bounded_waits import socket_waits
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


@pytest.fixture
def health(monkeypatch):
    """``health(endpoint)`` -> (reason, the SocketWaits of that one check)."""

    def check(endpoint: Endpoint):
        with socket_waits(monkeypatch) as waits:
            reason = PROVIDER.health(endpoint)
        return reason, waits
    return check


def external(url: str) -> Endpoint:
    return Endpoint("redis", "external", url, "redis-server", "7", {"db": 0})


def test_a_live_server_is_healthy_with_or_without_the_password(server, health):
    endpoint, process = server
    assert health(endpoint)[0] is None
    assert health(external(f"redis://127.0.0.1:{process.port}/0"))[0] is None  # -NOAUTH is an answer too


def test_a_frozen_server_is_reported_within_its_bound(server, health):
    endpoint, process = server
    os.kill(process.pid, signal.SIGSTOP)
    reason, waits = health(endpoint)
    assert reason == f"no answer to PING from 127.0.0.1:{process.port} within 0.3 s"
    assert waits.connects == [("127.0.0.1", process.port)], "one connection, no retry"
    assert waits.bounded_by(HEALTH_TIMEOUT_S), waits  # every socket wait (connect, each recv) within the bound
    assert url_password_absent(reason, endpoint.url)


def test_a_dead_server_is_reported_at_once(server, health):
    endpoint, process = server
    process.stop()
    reason, waits = health(endpoint)
    assert reason is not None and f"127.0.0.1:{process.port}" in reason and "refused" in reason.lower()
    assert waits.connects == [("127.0.0.1", process.port)], "the refused connection is the answer: no retry"
    assert waits.bounded_by(HEALTH_TIMEOUT_S), waits


def test_a_silent_listener_and_a_non_redis_answer_are_reasons_never_exceptions(health):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    reason, waits = health(external(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"))
    assert reason and "no answer to PING" in reason and waits.bounded_by(HEALTH_TIMEOUT_S), (reason, waits)
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
    reason, _ = health(external(f"redis://127.0.0.1:{talker.getsockname()[1]}/0"))
    assert reason and "not as Redis does" in reason
    talker.close()

    assert PROVIDER.health(external("redis://127.0.0.1:notaport/0"))  # a reason, not a ValueError
    assert PROVIDER.health(external(f"redis://127.0.0.1:{closed_port()}/0"))


def url_password_absent(reason: str, url: str) -> bool:
    from narrative_fixtures.core.masking import url_password

    return url_password(url) not in reason
