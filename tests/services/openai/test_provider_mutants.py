"""Self-tests that kill the mutation run's survivors in the OpenAI provider, called in the test (no nested pytest):
the base URL a user sets and its one-line refusals, the probes' requests and what the answers mean, the health GET
of an external fake, and the endpoints of an embedded fake, a fake as a process and an external fake (per worker)."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import narrative_fixtures
from narrative_fixtures.config import resolve
from narrative_fixtures.core.masking import mask_url
from narrative_fixtures.core.registry import ProvisionContext
from narrative_fixtures.errors import ConfigError
from narrative_fixtures.services.openai import provider
from narrative_fixtures.services.openai.endpoint import OpenAIEndpoint
from narrative_fixtures.services.openai.fake.responses import FAKE_NAME, FAKE_VERSION
from narrative_fixtures.services.openai.provider import (
    FAKE_API_KEY, PROBE_TIMEOUT_S, OpenAIProvider, answers_http, external_url,
)  # fmt: skip
from tests.conftest import closed_port

from .wire import Answer, serve, silent_socket

MODELS = {"object": "list", "data": []}


@pytest.fixture
def wire():
    server = serve()
    yield server
    server.shutdown()
    server.server_close()


def settings_for(tmp_path: Path, env: dict | None = None):
    return resolve({}, env or {}, {"services_log_dir": str(tmp_path)}, tmp_path)


def connect(tmp_path: Path, url: str, key: str | None = None, worker: str = "master"):
    settings = settings_for(tmp_path, {"TEST_OPENAI_BASE_URL": url, **({"TEST_OPENAI_API_KEY": key} if key else {})})
    return OpenAIProvider().connect_external(settings["openai"], ProvisionContext(settings, worker, "run1"))


# --- the base URL a user sets ------------------------------------------------------------------------------------


def test_a_base_url_is_kept_as_given_without_its_trailing_slash():
    assert external_url("http://127.0.0.1:9/v1/") == "http://127.0.0.1:9/v1"
    assert external_url("https://fake.example/X/") == "https://fake.example/X", "https is a fake's scheme too"


def test_a_url_of_another_scheme_is_refused_in_one_line_naming_the_setting_password_masked():
    url = "ftp://user:sk-sentinel-pw@127.0.0.1/v1"
    with pytest.raises(ConfigError) as refused:
        external_url(url)
    assert str(refused.value) == (
        f"TEST_OPENAI_BASE_URL={mask_url(url)} is not an http(s) base URL (expected http://host:port/v1)"
    )
    assert "sk-sentinel-pw" not in str(refused.value)


def test_a_url_that_does_not_parse_is_refused_in_one_line_naming_the_setting():
    url = "http://127.0.0.1:port/v1"
    try:
        urlsplit(url).port
    except ValueError as error:
        why = str(error)
    with pytest.raises(ConfigError) as refused:
        external_url(url)
    assert str(refused.value) == f"TEST_OPENAI_BASE_URL={url} is not a valid URL ({why})"


def test_the_real_openai_api_is_refused_in_one_line_its_password_masked():
    url = "https://user:sk-sentinel-pw@api.openai.com/v1"
    with pytest.raises(ConfigError) as refused:
        external_url(url)
    assert str(refused.value) == (
        f"TEST_OPENAI_BASE_URL={mask_url(url)} is the real OpenAI API: tests never call it. Point it at an"
        " OpenAI-compatible fake (python -m narrative_fixtures.services.openai.fake) or unset it for the embedded fake"
    )
    assert "sk-sentinel-pw" not in str(refused.value)


# --- the probes ----------------------------------------------------------------------------------------------------


def test_a_probe_sends_the_key_only_when_there_is_one_and_reads_the_json(wire):
    wire.routes["/v1/models"] = Answer(200, MODELS)
    assert provider._get_json(f"{wire.root}/v1/models", "sk-sentinel") == (200, MODELS)
    assert provider._get_json(f"{wire.root}/v1/models") == (200, MODELS)
    (_, _, with_key), (_, _, without) = wire.seen
    assert with_key["Authorization"] == "Bearer sk-sentinel"
    assert "authorization" not in {name.lower() for name in without}


def test_a_probe_reads_an_error_status_an_empty_body_and_a_body_that_is_not_json(wire):
    wire.routes["/missing"] = Answer(404, {"error": {"message": "no"}})
    wire.routes["/empty"] = Answer(200, b"")
    wire.routes["/text"] = Answer(500, b"<html>oops</html>")
    assert provider._get_json(f"{wire.root}/missing") == (404, {"error": {"message": "no"}})
    assert provider._get_json(f"{wire.root}/empty") == (200, None)
    assert provider._get_json(f"{wire.root}/text") == (500, None)


def test_a_probe_waits_at_most_the_probe_timeout(wire, monkeypatch):
    waits = []
    real = urllib.request.urlopen

    def urlopen(request, *args, **kwargs):
        waits.append(kwargs.get("timeout"))
        return real(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    wire.routes["/v1/models"] = Answer(200, MODELS)
    provider._get_json(f"{wire.root}/v1/models")
    assert waits == [PROBE_TIMEOUT_S]


# --- the health GET of an external fake ----------------------------------------------------------------------------


def test_the_health_get_asks_for_the_path_given_or_the_root(wire):
    assert answers_http(f"{wire.root}/v1/models", timeout=5) is None, "a 404 is an answer"
    assert answers_http(wire.root, timeout=5) is None
    assert wire.paths() == [("GET", "/v1/models"), ("GET", "/")]


def test_a_slow_answer_within_the_budget_is_an_answer(wire):
    wire.routes["/slow"] = Answer(200, MODELS, how="slow")
    assert answers_http(f"{wire.root}/slow", timeout=5) is None


def test_the_answer_s_status_is_enough_its_body_is_never_waited_for(wire):
    wire.routes["/stall"] = Answer(200, MODELS, how="stall")
    assert answers_http(f"{wire.root}/stall", timeout=1) is None


def test_an_https_url_is_asked_over_tls(wire):
    reason = answers_http(f"https://127.0.0.1:{wire.server_address[1]}/v1/models", timeout=5)
    assert reason is not None and reason.startswith("GET /v1/models failed: "), reason
    assert wire.seen == [], "the plain-HTTP server never read a request"


def test_a_fake_that_never_answers_is_reported_with_the_path_and_the_budget():
    with silent_socket() as silent:
        port = silent.getsockname()[1]
        assert answers_http(f"http://127.0.0.1:{port}", timeout=0.2) == "no answer to GET / within 0.2 s"


def test_a_refused_connection_is_reported_with_the_path_and_the_reason():
    assert answers_http(f"http://127.0.0.1:{closed_port()}") == "GET / failed: Connection refused"


def test_an_answer_that_is_not_http_is_reported_by_its_error_s_name(wire):
    wire.routes["/v1/models"] = Answer(how="garbage")
    assert answers_http(f"{wire.root}/v1/models", timeout=5) == "GET /v1/models failed: BadStatusLine"


def test_any_other_error_is_reported_never_raised(wire):
    assert answers_http("http://a..b", timeout=5) == "GET / failed: UnicodeError"
    assert answers_http(f"{wire.root}/caf\u00e9", timeout=5) == "GET /caf\u00e9 failed: UnicodeEncodeError"


# --- the embedded fake and the fake as a process -------------------------------------------------------------------


def test_an_embedded_fake_is_the_run_s_own_named_logged_limited_and_scriptable(tmp_path):
    settings = settings_for(tmp_path, {"TEST_SERVICE_START_TIMEOUT": "17"})
    context = ProvisionContext(settings, "master")
    own = OpenAIProvider()
    endpoint, fake = own.start_embedded(context, max_records=3)
    try:
        assert (endpoint.service, endpoint.mode, endpoint.url) == ("openai", "embedded", fake.url)
        assert (endpoint.backend, endpoint.version) == (FAKE_NAME, FAKE_VERSION)
        assert endpoint.started_in is not None and endpoint.started_in == fake.started_in
        assert endpoint.api_key == FAKE_API_KEY and endpoint.scriptable is True
        assert fake.log_path == context.log_path("openai") and fake.log_path.name == "openai.log"
        assert fake.state.max_records == 3
        assert (fake.runner.timeout, fake.runner.setting) == (17.0, "TEST_OPENAI_BASE_URL"), "the run's start budget"
        assert own.served_here(endpoint) is fake
        elsewhere = OpenAIEndpoint("openai", "external", endpoint.url, FAKE_NAME, FAKE_VERSION)
        assert own.served_here(elsewhere) is None, "a fake at the same URL run elsewhere is not served here"
    finally:
        fake.stop()


def test_a_named_embedded_fake_logs_to_its_own_file(tmp_path):
    context = ProvisionContext(settings_for(tmp_path), "master")
    endpoint, fake = OpenAIProvider().start_embedded(context, "openai-sentinel")
    try:
        assert fake.log_path == context.log_path("openai-sentinel")
    finally:
        fake.stop()


def test_the_fake_as_a_process_is_started_ready_from_this_package_and_described(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, ("/sentinel-path", os.environ.get("PYTHONPATH")))))
    context = ProvisionContext(settings_for(tmp_path), "master")
    asked = []
    real = context.server_process

    def server_process(service, command, ready, **kwargs):
        asked.append((service, command, ready, kwargs))
        return real(service, command, ready, **kwargs)

    monkeypatch.setattr(context, "server_process", server_process)
    endpoint, process = OpenAIProvider().start_process(context)
    try:
        assert answers_http(f"{endpoint.url}/models", timeout=5) is None, "it answers once started"
        (service, command, ready, kwargs), = asked
        assert service == "openai"
        assert command(5, tmp_path) == [
            sys.executable, "-m", "narrative_fixtures.services.openai.fake", "--host", "127.0.0.1", "--port", "5",
        ]  # fmt: skip
        assert ready(process.port) is True and ready(closed_port()) is False
        package_root = str(Path(narrative_fixtures.__file__).resolve().parents[1])
        assert kwargs == {"env": {"PYTHONPATH": os.pathsep.join((package_root, os.environ["PYTHONPATH"]))}}
        assert (endpoint.service, endpoint.mode, endpoint.url) == (
            "openai", "embedded", f"http://127.0.0.1:{process.port}/v1"
        )  # fmt: skip
        assert (endpoint.backend, endpoint.version, endpoint.api_key) == (FAKE_NAME, FAKE_VERSION, FAKE_API_KEY)
        assert endpoint.started_in is not None and endpoint.started_in == process.started_in
        assert endpoint.scriptable is True and endpoint.pid == process.pid and process.alive()
    finally:
        process.stop()
