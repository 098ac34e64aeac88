"""The S3 provider's health check (run after a failed S3 test): None when the server answers, else why, never
waiting longer than its 0.3 s bound on any socket (the bound is asserted, not timed: bench/timing.py measures it)."""

from __future__ import annotations

import socket

import pytest

from narrative_fixtures.provisioning import Endpoint
from narrative_fixtures.services.s3 import PROVIDER
from narrative_fixtures.services.s3.provider import HEALTH_TIMEOUT_S
from tests.bounded_waits import socket_waits
from tests.conftest import closed_port


def _endpoint(url: str) -> Endpoint:
    return Endpoint("s3", "external", url, "S3 endpoint", "", {"region": "us-east-1", "aws": False})


@pytest.fixture
def health(monkeypatch):
    """``health(url)`` -> (reason, the SocketWaits of that one check)."""

    def check(url: str):
        with socket_waits(monkeypatch) as waits:
            reason = PROVIDER.health(_endpoint(url))
        return reason, waits
    return check


def test_a_server_that_answers_is_healthy(s3_service, health):
    reason, waits = health(s3_service.url)
    assert reason is None
    assert len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S), waits


def test_a_dead_server_is_reported_at_once(health):
    reason, waits = health(f"http://127.0.0.1:{closed_port()}")
    assert reason == "connection refused"
    assert len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S), waits  # the refusal is the answer


@pytest.fixture
def frozen_server():
    """A port that accepts connections (the kernel's backlog) but never answers, like a SIGSTOPped server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_frozen_server_is_reported_within_its_bound(frozen_server, health):
    reason, waits = health(frozen_server)
    assert reason == "no answer to an HTTP request within 0.3 s"
    assert len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S), waits
