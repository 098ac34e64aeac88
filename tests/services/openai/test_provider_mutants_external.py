"""Self-tests that kill the mutation run's survivors in the OpenAI provider's external mode, called in the test: what
an external fake's answers make of its endpoint (scriptable, backend, version, this worker's scope), the one-line
refusals of an unreachable fake, a rejected key and a failing one, and the warning of a fake without scopes."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest

from narrative_fixtures.core.masking import mask_url
from narrative_fixtures.core.registry import ProvisionContext
from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.services.openai import provider
from narrative_fixtures.services.openai.provider import FAKE_API_KEY, worker_scope
from tests.conftest import closed_port

from .test_provider_mutants import MODELS, connect, settings_for, wire  # noqa: F401 - wire is a fixture
from .wire import Answer

HEALTH = "/_fake/health"
SCOPED_HEALTH = "/_scope/run1-gw1/_fake/health"


def fake_at(wire, health: Answer | None = None, scoped: Answer | None = None) -> str:
    """``wire`` as an external fake: models listed, its health and this worker's scoped health as given."""
    wire.routes["/v1/models"] = Answer(200, MODELS)
    if health is not None:
        wire.routes[HEALTH] = health
    if scoped is not None:
        wire.routes[SCOPED_HEALTH] = scoped
    return f"{wire.root}/v1"


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture
def warned(monkeypatch):
    """The warnings the provider gives, as (message, category, stacklevel)."""
    given = []

    def warn(message, category=UserWarning, stacklevel=1):
        given.append((message, category, stacklevel))

    monkeypatch.setattr(provider, "warnings", SimpleNamespace(warn=warn))
    return given


def test_a_scriptable_external_fake_is_described_by_its_health_answer(tmp_path, wire, no_warnings):
    url = fake_at(wire, health=Answer(200, {"fake": "sentinel-fake", "version": 7}))
    endpoint = connect(tmp_path, url, key="sk-sentinel-key")
    assert (endpoint.service, endpoint.mode, endpoint.url) == ("openai", "external", url), "one process: not scoped"
    assert (endpoint.backend, endpoint.version, endpoint.scriptable) == ("sentinel-fake", "7", True)
    assert endpoint.api_key == "sk-sentinel-key"
    (_, models, models_headers), (_, health, health_headers) = wire.seen
    assert (models, health) == ("/v1/models", HEALTH)
    assert models_headers["Authorization"] == "Bearer sk-sentinel-key"


def test_a_fake_whose_health_names_no_version_has_an_empty_one(tmp_path, wire):
    endpoint = connect(tmp_path, fake_at(wire, health=Answer(200, {"fake": "sentinel-fake"})))
    assert (endpoint.backend, endpoint.version, endpoint.api_key) == ("sentinel-fake", "", FAKE_API_KEY)


@pytest.mark.parametrize(
    "health",
    [Answer(500, {"fake": "broken"}), Answer(200, {"status": "ok"}), Answer(404, b"not json"), Answer(how="close")],
    ids=["an error naming a fake", "no fake named", "not json", "connection closed"],
)
def test_a_fake_without_a_working_control_api_is_used_as_an_openai_compatible_api(tmp_path, wire, health, no_warnings):
    url = fake_at(wire, health=health)
    endpoint = connect(tmp_path, url, worker="gw1")
    assert (endpoint.url, endpoint.backend, endpoint.version) == (url, "OpenAI-compatible API", "unknown")
    assert endpoint.scriptable is False
    assert SCOPED_HEALTH not in [path for _, path in wire.paths()], "no worker scope is looked for"


def test_an_xdist_worker_gets_its_own_scope_of_a_scriptable_fake(tmp_path, wire):
    url = fake_at(wire, health=Answer(200, {"fake": "sentinel-fake"}), scoped=Answer(200, {"fake": "sentinel-fake"}))
    endpoint = connect(tmp_path, url, worker="gw1")
    assert endpoint.url == f"{wire.root}/_scope/run1-gw1/v1" and endpoint.scriptable is True


def test_an_unreachable_fake_is_named_in_one_line_with_the_reason(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(ServiceUnavailable) as unreachable:
        connect(tmp_path, url)
    assert str(unreachable.value) == (
        f"cannot reach the OpenAI fake at TEST_OPENAI_BASE_URL={url} ([Errno 111] Connection refused)"
    )


def test_a_failure_without_a_reason_is_named_by_itself(tmp_path, monkeypatch):
    def fails(url, key=None):
        raise OSError("the sentinel failure")

    monkeypatch.setattr(provider, "_get_json", fails)
    with pytest.raises(ServiceUnavailable) as unreachable:
        connect(tmp_path, "http://127.0.0.1:9/v1")
    assert str(unreachable.value) == (
        "cannot reach the OpenAI fake at TEST_OPENAI_BASE_URL=http://127.0.0.1:9/v1 (the sentinel failure)"
    )


@pytest.mark.parametrize(
    ("answer", "unreadable"),
    [(Answer(200, MODELS, how="cut"), "IncompleteRead(30 bytes read, 100 more expected)"),
     (Answer(how="garbage"), "BadStatusLine('HELLO\\r\\n')")],
    ids=["cut short", "not http"],
)
def test_a_models_answer_that_cannot_be_read_is_an_unavailable_fake_in_one_line(tmp_path, wire, answer, unreadable):
    wire.routes["/v1/models"] = answer
    with pytest.raises(ServiceUnavailable) as unreadable_answer:
        connect(tmp_path, f"{wire.root}/v1")
    assert str(unreadable_answer.value) == (
        f"cannot reach the OpenAI fake at TEST_OPENAI_BASE_URL={wire.root}/v1 (an unreadable answer: {unreadable})"
    )


def test_a_control_api_whose_answer_cannot_be_read_is_no_control_api(tmp_path, wire):
    url = fake_at(wire, health=Answer(200, {"fake": "f"}, how="cut"))
    endpoint = connect(tmp_path, url)
    assert (endpoint.backend, endpoint.scriptable) == ("OpenAI-compatible API", False)


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_is_a_misconfiguration_naming_both_settings(tmp_path, wire, status):
    wire.routes["/v1/models"] = Answer(status, {"error": {"message": "no"}})
    with pytest.raises(ConfigError) as rejected:
        connect(tmp_path, f"{wire.root}/v1", key="sk-sentinel-key")
    assert str(rejected.value) == (
        f"the OpenAI fake at TEST_OPENAI_BASE_URL={wire.root}/v1 rejected the key in TEST_OPENAI_API_KEY ({status})"
    )


@pytest.mark.parametrize("status", [402, 500])
def test_any_other_answer_to_the_models_list_is_an_unavailable_fake(tmp_path, wire, status):
    wire.routes["/v1/models"] = Answer(status, {"error": {"message": "no"}})
    with pytest.raises(ServiceUnavailable) as failing:
        connect(tmp_path, f"{wire.root}/v1")
    assert str(failing.value) == (
        f"the OpenAI fake at TEST_OPENAI_BASE_URL={wire.root}/v1 answered GET /models with {status}"
    )


# --- worker_scope ----------------------------------------------------------------------------------------------------


def context(tmp_path, worker: str) -> ProvisionContext:
    return ProvisionContext(settings_for(tmp_path), worker, "run1")


def test_one_process_uses_the_fake_s_default_scope_without_asking(tmp_path, wire, warned):
    url = fake_at(wire, health=Answer(200, {"fake": "f"}), scoped=Answer(200, {"fake": "f"}))
    assert worker_scope(url, context(tmp_path, "master")) is None
    assert wire.seen == [] and warned == []


def test_a_worker_s_scope_is_the_run_and_the_worker_when_the_fake_serves_it(tmp_path, wire, warned):
    url = fake_at(wire, scoped=Answer(200, {"fake": "f"}))
    assert worker_scope(url, context(tmp_path, "gw1")) == "run1-gw1"
    assert wire.paths() == [("GET", SCOPED_HEALTH)] and warned == []


@pytest.mark.parametrize(
    "scoped",
    [None, Answer(500, {"fake": "f"}), Answer(200, {"status": "ok"}), Answer(404, b"not json"), Answer(how="close"),
     Answer(200, {"fake": "f"}, how="cut")],
    ids=["only the default scope", "an error naming a fake", "no fake named", "not json", "connection closed",
         "cut short"],
)
def test_a_fake_without_scopes_is_shared_with_a_one_line_warning(tmp_path, wire, warned, scoped):
    url = fake_at(wire, health=Answer(200, {"fake": "f"}), scoped=scoped)
    assert worker_scope(url, context(tmp_path, "gw1")) is None
    (message, category, stacklevel), = warned
    assert (category, stacklevel) == (UserWarning, 2), "the warning names the provider's caller"
    assert message == (
        f"openai: the fake at TEST_OPENAI_BASE_URL={url} has no per-worker scopes: the xdist workers share its script"
        " and record (run the tests that script it without -n, or serve it with this version's python -m"
        " narrative_fixtures.services.openai.fake)"
    )


def test_an_unreachable_fake_is_shared_too_its_password_masked_in_the_warning(tmp_path, warned):
    url = f"http://user:sk-sentinel-pw@127.0.0.1:{closed_port()}/v1"
    assert worker_scope(url, context(tmp_path, "gw1")) is None
    (message, _, _), = warned
    assert f"TEST_OPENAI_BASE_URL={mask_url(url)} has no per-worker scopes" in message
    assert "sk-sentinel-pw" not in message
