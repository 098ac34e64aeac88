"""What ``openai_service`` yields: an ``OpenAIEndpoint`` whose named attributes are the old ``details[...]`` values
(kept, deprecated), in embedded mode and for the two kinds of external fake; its key never in a repr."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from narrative_fixtures.config import resolve
from narrative_fixtures.core.registry import Endpoint, ProvisionContext
from narrative_fixtures.services.openai import FAKE_API_KEY, OpenAIEndpoint, OpenAIProvider

TYPED = """
from narrative_fixtures.core.registry import Endpoint
from narrative_fixtures.services.openai import FAKE_API_KEY, OpenAIEndpoint

def test_typed(openai_service):
    assert isinstance(openai_service, OpenAIEndpoint) and isinstance(openai_service, Endpoint)
    assert openai_service.details == {"scriptable": True}  # what projects read before the typed endpoint
    assert openai_service.scriptable is openai_service.details["scriptable"]
    assert (openai_service.host, openai_service.port) == ("127.0.0.1", int(openai_service.url.split(":")[2][:-3]))
    assert openai_service.api_key == FAKE_API_KEY and openai_service.root_url + "/v1" == openai_service.url
    assert (openai_service.backend, openai_service.version) == ("narrative-fake-openai", "1.0")
    assert "sk-" not in repr(openai_service)
"""


def test_the_run_s_fake_is_a_typed_endpoint_with_the_old_details(project):
    project.makepyfile(TYPED)
    result = project.runpytest_inprocess("--require-services")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["openai: narrative-fake-openai 1.0 at http://127.0.0.1:*/v1 (embedded, ready in *s)"])


def _external(tmp_path: Path, url: str, key: str | None = None) -> OpenAIEndpoint:
    env = {"TEST_OPENAI_BASE_URL": url, **({"TEST_OPENAI_API_KEY": key} if key else {})}
    settings = resolve({}, env, {"services_log_dir": str(tmp_path)}, tmp_path)
    return OpenAIProvider().connect_external(settings["openai"], ProvisionContext(settings, "master"))


def test_a_scriptable_external_fake_carries_the_configured_key(tmp_path, standalone_fake):
    endpoint = _external(tmp_path, standalone_fake, key="sk-sentinel-project-key-123")
    assert endpoint.details == {"scriptable": True} and endpoint.scriptable
    assert endpoint.api_key == "sk-sentinel-project-key-123", "the key a client of the external fake needs"
    assert (endpoint.host, endpoint.port) == ("127.0.0.1", urlsplit(standalone_fake).port)
    assert "sk-sentinel" not in repr(endpoint) and "sk-sentinel" not in endpoint.summary()


def test_an_external_fake_without_control_api_is_not_scriptable(tmp_path, models_only_server):
    endpoint = _external(tmp_path, models_only_server)
    assert endpoint.details == {"scriptable": False} and endpoint.scriptable is False
    assert (endpoint.backend, endpoint.version, endpoint.api_key) == ("OpenAI-compatible API", "unknown", FAKE_API_KEY)


@pytest.mark.parametrize(
    ("url", "host", "port"), [("https://fake.example/v1", "fake.example", 443), ("http://[::1]:8080/v1", "::1", 8080)]
)
def test_host_and_port_come_from_the_url_when_not_given(url, host, port):
    endpoint = OpenAIEndpoint("openai", "external", url, "b", "v")
    assert (endpoint.host, endpoint.port, endpoint.details) == (host, port, {"scriptable": False})
    assert isinstance(endpoint, Endpoint) and endpoint.summary() == f"b v at {url} (external)"
