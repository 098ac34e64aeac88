"""Helpers for the project's own tests: nested pytest sessions configured like another project would be."""

from __future__ import annotations

import pytest

PLAIN_INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error::RuntimeWarning
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory set up as another backend project that installed the plugin (no conftest)."""
    pytester.makeini(PLAIN_INI)
    for variable in (
        "TEST_REDIS_URL", "TEST_REDIS_MODE", "TEST_MONGODB_URI", "TEST_MONGODB_MODE", "S3_ENDPOINT_URL",
        "TEST_S3_MODE", "TEST_OPENAI_BASE_URL", "TEST_OPENAI_MODE", "TEST_REQUIRE_SERVICES", "TEST_REDIS_ALLOW_FLUSH",
    ):
        pytester._monkeypatch.delenv(variable, raising=False)
    return pytester


def closed_port() -> int:
    """A loopback port nothing listens on."""
    from narrative_fixtures.provisioning import free_port

    return free_port()
