"""The echo service's fixtures (a pytest plugin module, registered by narrative_fixtures from the spec)."""

from __future__ import annotations

import pytest

from narrative_fixtures.core.registry import Endpoint
from narrative_fixtures.services.common import require_service

from .client import EchoClient


@pytest.fixture(scope="session")
def echo_service(request: pytest.FixtureRequest) -> Endpoint:
    """The run's echo server: started on first use (embedded) or ``TEST_ECHO_URL``; skips when unavailable."""
    return require_service(request, "echo")


@pytest.fixture
def echo_client(echo_service: Endpoint):
    """A connection to the run's echo server, closed after the test."""
    client = EchoClient(echo_service.url)
    yield client
    client.close()
