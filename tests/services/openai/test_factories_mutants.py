"""Self-tests that kill the mutation run's survivors in the OpenAI fixture factories, called in the test (no nested
pytest, so a mutation run sees the factories called): what each factory declares (scope, loop scope, the fixtures it
needs, its reference text) and its fixture driven with the test's own ``request``: another fake started, named,
limited and stopped, the refusals of a fake turned off or unavailable, clients with their options, the mock's text."""

from __future__ import annotations

import asyncio
import inspect

import openai
import pytest

from narrative_fixtures.config import resolve
from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.openai import factories
from narrative_fixtures.services.openai.endpoint import OpenAIEndpoint
from narrative_fixtures.services.openai.factories import (
    client_factory, controller_factory, fake_server_factory, mock_factory,
)  # fmt: skip
from narrative_fixtures.services.openai.mock import CANNED_RESPONSES, MOCK_MODEL


def declared(fixture):
    """(the function pytest calls, its scope, its pytest-asyncio loop scope or None)."""
    function = fixture._get_wrapped_function()
    return function, fixture._fixture_function_marker.scope, getattr(fixture, "_loop_scope", None)


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def belongs_to_a_module(function) -> bool:
    # The caller's module; not compared by name: under a mutation run mutmut's trampoline is the factory's caller.
    return isinstance(function.__module__, str) and bool(function.__module__)


def unscriptable() -> OpenAIEndpoint:
    return OpenAIEndpoint("openai", "external", "http://127.0.0.1:9/v1", "OpenAI-compatible API", "unknown")


class Stopped(Exception):
    """Raised by a stand-in to end the fixture where the test looked."""


# --- what the factories declare ----------------------------------------------------------------------------------


def test_another_fake_is_named_second_and_served_for_the_session_unless_told():
    function, scope, loop_scope = declared(fake_server_factory())
    assert (scope, loop_scope, parameters(function)) == ("session", None, ["request"])
    assert function.__doc__ == (
        "Another fake OpenAI API ('second', its own port, script and record), served for the session."
    )
    assert belongs_to_a_module(function)
    function, scope, _ = declared(fake_server_factory("mine", scope="module"))
    assert scope == "module" and function.__doc__.startswith("Another fake OpenAI API ('mine',")


def test_a_controller_needs_its_fake_and_has_the_scope_it_is_given():
    function, scope, _ = declared(controller_factory("sentinel_fake", scope="module"))
    assert (scope, parameters(function)) == ("module", ["request", "sentinel_fake"])
    assert function.__doc__ == (
        "The fake of ``sentinel_fake`` as the test scripts it; script and record emptied before and after."
    )


def test_a_client_needs_its_fake_and_its_controller_when_one_is_named():
    function, scope, loop_scope = declared(client_factory("sentinel_fake", controller="sentinel_controller"))
    assert (scope, loop_scope) == ("function", None)
    assert parameters(function) == ["request", "sentinel_fake", "sentinel_controller"]
    function, _, _ = declared(client_factory("sentinel_fake"))
    assert parameters(function) == ["request", "sentinel_fake"]


def test_an_async_client_is_described_as_one_with_its_scope_and_loop_scope():
    function, scope, loop_scope = declared(client_factory("sentinel_fake", scope="module", loop_scope="module"))
    assert (scope, loop_scope) == ("module", "module") and belongs_to_a_module(function)
    assert function.__doc__ == (
        "An ``AsyncOpenAI`` client bound to the fake of ``sentinel_fake`` (fake key); closed after the module."
    )


def test_a_sync_client_is_described_as_one_with_its_scope():
    function, scope, _ = declared(client_factory("sentinel_fake", sync=True, scope="session"))
    assert scope == "session"
    assert function.__doc__ == (
        "An ``OpenAI`` client bound to the fake of ``sentinel_fake`` (fake key); closed after the session."
    )


def test_a_mock_has_its_reference_text_and_the_scope_it_is_given():
    function, scope, _ = declared(mock_factory(scope="module"))
    assert (scope, parameters(function)) == ("module", ["request"]) and belongs_to_a_module(function)
    assert function.__doc__ == (
        "An in-process OpenAI mock (``client``, ``response``, ``async_mock``) answering a canned text."
    )
    assert declared(mock_factory(doc="The sentinel mock."))[0].__doc__ == "The sentinel mock."


def test_a_fixture_built_without_a_scope_is_a_function_fixture_of_a_module():
    fixture = factories._build(lambda request, **values: None, needs=("sentinel_fake",), doc="The sentinel.")
    function, scope, loop_scope = declared(fixture)
    assert (scope, loop_scope, parameters(function)) == ("function", None, ["request", "sentinel_fake"])
    assert belongs_to_a_module(function)


# --- the fixtures at work ----------------------------------------------------------------------------------------


def test_another_fake_is_started_logged_limited_and_stopped_after_its_fixture(request, openai_service):
    running = declared(fake_server_factory("sentinel", max_records=3))[0](request)
    try:
        endpoint = next(running)
    except pytest.skip.Exception:  # a skip would pass unnoticed
        pytest.fail("another fake was refused while the run's fake is embedded")
    fake = factories.PROVIDER.served_here(endpoint)
    assert endpoint.mode == "embedded" and endpoint.url != openai_service.url and fake.alive()
    assert fake.log_path == registry_of(request.config).context.log_path("openai-sentinel")  # openai-sentinel.log
    assert fake.state.max_records == 3
    with pytest.raises(StopIteration):
        next(running)
    assert not fake.alive(), "stopped after its fixture"


def test_another_fake_when_openai_is_off_says_how_to_turn_it_on(request, monkeypatch, tmp_path):
    off = resolve({}, {"TEST_OPENAI_MODE": "off"}, {"services_log_dir": str(tmp_path)}, tmp_path)["openai"]
    said, started = [], []

    def unavailable(req, problem):
        said.append((req, problem))
        raise Stopped

    monkeypatch.setattr(factories, "settings_of", lambda config: {"openai": off})
    monkeypatch.setattr(factories.janitor, "unavailable", unavailable)
    monkeypatch.setattr(factories.PROVIDER, "start_embedded", lambda *args, **kwargs: started.append(args))
    with pytest.raises(Stopped):
        next(declared(fake_server_factory("sentinel"))[0](request))
    assert said == [
        (request, f"openai unavailable: openai is turned off ({off.sources['mode']}); set TEST_OPENAI_MODE=embedded"
                  " to run its tests"),
    ]  # fmt: skip
    assert started == []


def test_another_fake_that_cannot_start_is_decided_like_the_run_s_fake(request, monkeypatch):
    problem = ServiceUnavailable("the sentinel fake cannot start")
    decided = []

    def cannot_start(*args, **kwargs):
        raise problem

    def skip_or_fail(*args):
        decided.append(args)
        raise Stopped

    monkeypatch.setattr(factories.PROVIDER, "start_embedded", cannot_start)
    monkeypatch.setattr(factories, "skip_or_fail", skip_or_fail)
    with pytest.raises(Stopped):
        next(declared(fake_server_factory("sentinel"))[0](request))
    assert decided == [(request, problem, "openai unavailable")]


def test_a_required_controller_of_a_fake_without_control_api_refuses_the_test(request):
    running = declared(controller_factory("sentinel_fake"))[0](request, sentinel_fake=unscriptable())
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception)) as refused:
        next(running)
    assert "cannot be scripted (no /_fake control API)" in str(refused.value)


def test_a_controller_not_required_yields_none_for_a_fake_without_control_api(request):
    running = declared(controller_factory("sentinel_fake", required=False))[0](request, sentinel_fake=unscriptable())
    assert next(running) is None


def test_a_sync_client_is_bound_to_its_fake_with_the_options_given_and_closed_after(request, openai_service):
    running = declared(client_factory("sentinel_fake", sync=True, timeout=3.5, max_retries=0))[0](
        request, sentinel_fake=openai_service
    )
    client = next(running)
    assert isinstance(client, openai.OpenAI) and str(client.base_url) == openai_service.url + "/"
    assert (client.timeout, client.max_retries) == (3.5, 0)
    with pytest.raises(StopIteration):
        next(running)
    assert client.is_closed()


def test_an_async_client_is_bound_to_its_fake_with_the_options_given_and_closed_after(request, openai_service):
    async def use() -> openai.AsyncOpenAI:
        running = declared(client_factory("sentinel_fake", timeout=3.5, max_retries=0))[0](
            request, sentinel_fake=openai_service
        )
        client = await running.__anext__()
        assert isinstance(client, openai.AsyncOpenAI) and str(client.base_url) == openai_service.url + "/"
        assert (client.timeout, client.max_retries) == (3.5, 0)
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
        return client

    assert asyncio.run(use()).is_closed()


def test_a_client_for_the_real_openai_api_fails_the_test_before_it_exists(request):
    real = OpenAIEndpoint("openai", "external", "https://api.openai.com/v1", "OpenAI", "unknown")
    running = declared(client_factory("sentinel_fake", sync=True))[0](request, sentinel_fake=real)
    with pytest.raises(pytest.fail.Exception) as refused:
        next(running)
    assert str(refused.value).startswith("openai: refusing a client for https://api.openai.com/v1: it is the real")


def test_an_endpoint_without_a_host_is_checked_as_no_real_api():
    hostless = object()
    assert factories._checked(hostless) is hostless


def test_a_mock_answers_the_canned_summary_by_default_and_any_text_or_model_it_is_given(request):
    default = declared(mock_factory())[0](request)
    assert default.response.choices[0].message.content == CANNED_RESPONSES["data_summarization"]
    assert default.response.model == MOCK_MODEL
    canned = declared(mock_factory("model_recommendation"))[0](request)
    assert canned.response.choices[0].message.content == CANNED_RESPONSES["model_recommendation"]
    own = declared(mock_factory("the sentinel answer", model="gpt-sentinel"))[0](request)
    assert (own.response.choices[0].message.content, own.response.model) == ("the sentinel answer", "gpt-sentinel")
