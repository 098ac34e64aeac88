"""Self-tests that kill the mutation run's survivors in the OpenAI service's small modules: the clients' defaults
(timeout, retries, the shared TLS context, which key a client sends), the endpoint's host and port from its URL,
the control root, and a scope's URL and limits."""

from __future__ import annotations

import ssl
from types import SimpleNamespace

import httpx

from narrative_fixtures.services.openai import FAKE_API_KEY, OpenAIEndpoint
from narrative_fixtures.services.openai.clients import CLIENT_TIMEOUT_S, _ssl_context, make_client
from narrative_fixtures.services.openai.endpoint import control_root
from narrative_fixtures.services.openai.fake.models import FakeOpenAIState
from narrative_fixtures.services.openai.fake.scopes import ScopedStates, scoped_root

URL = "http://127.0.0.1:9/v1"  # nothing is sent: building a client contacts no server


def _endpoint(api_key: str = "") -> OpenAIEndpoint:
    return OpenAIEndpoint("openai", "external", URL, "fake", "1", api_key=api_key, scriptable=True)


def _ssl_of(client) -> ssl.SSLContext:
    return client._client._transport._pool._ssl_context  # httpx's pool keeps the context it was given


def test_the_tls_context_is_built_once_and_verifies(monkeypatch):
    from narrative_fixtures.services.openai import clients

    monkeypatch.setattr(clients, "_SSL_CONTEXT", None)  # as in a new process: built on the first call
    context = _ssl_context()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert _ssl_context() is context


def test_a_client_has_the_fixtures_timeout_two_retries_and_the_shared_tls_context():
    for sync in (True, False):
        client = make_client(_endpoint(), sync=sync)
        assert client.timeout == CLIENT_TIMEOUT_S == 10.0 and client.max_retries == 2
        assert str(client.base_url).rstrip("/") == URL
        assert _ssl_of(client) is _ssl_context()


def test_options_given_win_over_the_defaults_and_a_given_http_client_is_kept():
    own = httpx.Client()
    client = make_client(_endpoint(), sync=True, http_client=own, max_retries=0, timeout=3.0)
    assert client._client is own and (client.max_retries, client.timeout) == (0, 3.0)
    own.close()


def test_the_key_a_client_sends_the_given_one_then_the_endpoint_s_then_the_fake_key():
    assert make_client(_endpoint("sk-endpoint-key"), "sk-given-key", sync=True).api_key == "sk-given-key"
    assert make_client(_endpoint("sk-endpoint-key"), sync=True).api_key == "sk-endpoint-key"
    assert make_client(_endpoint(""), sync=True).api_key == FAKE_API_KEY
    keyless = SimpleNamespace(url=URL)  # an endpoint-like object without an api_key attribute
    assert make_client(keyless, sync=True).api_key == FAKE_API_KEY


def test_a_url_without_port_gets_its_scheme_s_default_and_one_without_host_an_empty_host():
    assert OpenAIEndpoint("openai", "external", "http://fake.example/v1", "fake", "1").port == 80
    assert OpenAIEndpoint("openai", "external", "https://fake.example/v1", "fake", "1").port == 443
    nowhere = OpenAIEndpoint("openai", "external", "unix:///tmp/fake.sock", "fake", "1")
    assert (nowhere.host, nowhere.port) == ("", None)


def test_the_control_root_drops_only_a_trailing_v1():
    assert control_root("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080"
    assert control_root("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert control_root("http://127.0.0.1:8080/v1/other") == "http://127.0.0.1:8080/v1/other"


def test_a_scope_s_root_joins_the_root_without_its_trailing_slash():
    assert scoped_root("http://127.0.0.1:8080/", "run1-gw0") == "http://127.0.0.1:8080/_scope/run1-gw0"
    assert scoped_root("http://127.0.0.1:8080", "s") == "http://127.0.0.1:8080/_scope/s"


def test_a_scope_s_state_has_every_limit_of_the_default():
    default = FakeOpenAIState(max_body_bytes=1234, max_records=7, record_body_limit=56)
    state = ScopedStates(default).state("run1-gw0")
    assert state is not default
    assert (state.max_body_bytes, state.max_records, state.record_body_limit) == (1234, 7, 56)


def test_an_app_gets_the_sdk_s_variables_and_another_run_the_plugin_s_settings():
    endpoint = _endpoint("sk-endpoint-key")
    assert dict(endpoint.environment()) == {"OPENAI_BASE_URL": URL, "OPENAI_API_KEY": "sk-endpoint-key"}
    assert dict(endpoint.settings_environment()) == {
        "TEST_OPENAI_BASE_URL": URL, "TEST_OPENAI_API_KEY": "sk-endpoint-key"
    }  # fmt: skip


def test_each_scope_prefix_routes_to_its_own_state_and_the_rest_of_the_path():
    scopes = ScopedStates(FakeOpenAIState())
    first, rest = scopes.route("/_scope/run1-gw0/v1/models")
    second, _ = scopes.route("/_scope/run1-gw1/v1/models")
    assert rest == "/v1/models" and first is not second and first is not scopes.default
    assert scopes.names() == ["run1-gw0", "run1-gw1"] and scopes.route("/v1/models") == (scopes.default, "/v1/models")
