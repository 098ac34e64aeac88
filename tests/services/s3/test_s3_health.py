"""The S3 provider's health check (run after a failed S3 test): None when the server answers, else why, in < 0.5 s."""

from __future__ import annotations

import socket
import time

import pytest

from narrative_fixtures.provisioning import Endpoint
from narrative_fixtures.services.s3 import PROVIDER
from tests.conftest import closed_port


def _endpoint(url: str) -> Endpoint:
    return Endpoint("s3", "external", url, "S3 endpoint", "", {"region": "us-east-1", "aws": False})


def _timed_health(url: str) -> tuple[str | None, float]:
    started = time.monotonic()
    reason = PROVIDER.health(_endpoint(url))
    return reason, time.monotonic() - started


def test_a_server_that_answers_is_healthy(s3_service):
    reason, seconds = _timed_health(s3_service.url)
    assert reason is None
    assert seconds < 0.5


def test_a_dead_server_is_reported_at_once():
    reason, seconds = _timed_health(f"http://127.0.0.1:{closed_port()}")
    assert reason == "connection refused"
    assert seconds < 0.5


@pytest.fixture
def frozen_server():
    """A port that accepts connections (the kernel's backlog) but never answers, like a SIGSTOPped server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_frozen_server_is_reported_within_half_a_second(frozen_server):
    reason, seconds = _timed_health(frozen_server)
    assert reason == "no answer to an HTTP request within 0.3 s"
    assert seconds < 0.5
