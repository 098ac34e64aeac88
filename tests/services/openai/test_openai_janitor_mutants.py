"""Self-tests that kill the mutation run's survivors in the OpenAI janitor: which controller scripts a fake (the
in-process state when served here, the control API otherwise, none without one) and who judges a stopped fake
(the registry for the run's own, the fake itself for another)."""

from __future__ import annotations

import pytest

from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.openai import janitor
from narrative_fixtures.services.openai.endpoint import OpenAIEndpoint
from narrative_fixtures.services.openai.fake.control import LocalBackend, RemoteBackend


class _DeadFake:
    def alive(self) -> bool:
        return False

    def describe_death(self) -> str:
        return "the sentinel fake stopped serving"


def _external(scriptable: bool) -> OpenAIEndpoint:
    return OpenAIEndpoint("openai", "external", "http://127.0.0.1:9/v1", "fake", "1", api_key="sk-ext-key",
                          scriptable=scriptable)  # fmt: skip


def test_a_fake_served_here_is_scripted_through_its_own_state(openai_service):
    fake = janitor.controller_for(openai_service)
    assert isinstance(fake._backend, LocalBackend)
    assert fake._backend.state is janitor.PROVIDER.served_here(openai_service).state
    assert (fake.url, fake.api_key) == (openai_service.url, openai_service.api_key)


def test_an_external_fake_is_scripted_through_its_control_api_and_one_without_it_not_at_all():
    endpoint = _external(scriptable=True)
    fake = janitor.controller_for(endpoint)
    assert isinstance(fake._backend, RemoteBackend) and fake._backend.root_url == "http://127.0.0.1:9"
    assert (fake.url, fake.api_key) == (endpoint.url, "sk-ext-key")
    assert janitor.controller_for(_external(scriptable=False)) is None


def test_the_run_s_own_fake_is_judged_by_the_registry(request, openai_service, monkeypatch):
    asked = []
    monkeypatch.setattr(janitor, "require_service", lambda req, name: asked.append((req, name)))
    monkeypatch.setattr(janitor.PROVIDER, "served_here", lambda endpoint: _DeadFake())
    janitor.ensure_serving(request, openai_service)
    assert asked == [(request, "openai")]


def test_another_fake_that_stopped_fails_the_test_in_one_line(request, monkeypatch):
    asked = []
    monkeypatch.setattr(janitor, "require_service", lambda req, name: asked.append(name))
    monkeypatch.setattr(janitor.PROVIDER, "served_here", lambda endpoint: _DeadFake())
    with pytest.raises(pytest.fail.Exception) as failed:
        janitor.ensure_serving(request, _external(scriptable=True))
    assert str(failed.value) == "openai: the sentinel fake stopped serving" and failed.value.pytrace is False
    assert asked == []


def test_another_fake_still_serving_passes(request, monkeypatch):
    monkeypatch.setattr(janitor.PROVIDER, "served_here", lambda endpoint: None)
    assert janitor.ensure_serving(request, _external(scriptable=True)) is None


def _state(endpoint: OpenAIEndpoint):
    return janitor.PROVIDER.served_here(endpoint).state


def test_a_scripted_fake_is_emptied_before_and_after_and_its_problems_fail_the_test(request, openai_service):
    state = _state(openai_service)
    janitor.controller_for(openai_service).reply("left over by an earlier test")
    use = janitor.cleaned(request, openai_service, required=True)
    try:
        fake = next(use)
    except pytest.skip.Exception:  # a skip would pass unnoticed
        pytest.fail("a scriptable fake was refused")
    assert fake is not None and fake.pending == 0, "the script is emptied before the test"
    fake.reply("never taken")
    state.add_problem("a scripted answer did not match the schema")
    state.add_problem("another one")
    with pytest.raises(pytest.fail.Exception) as failed:
        next(use)
    assert str(failed.value) == "openai: a scripted answer did not match the schema; another one"
    assert failed.value.pytrace is False
    assert fake.pending == 0 and state.problems() == [], "the script and the problems are emptied after the test"


def test_a_clean_use_ends_quietly_and_empties_the_script(request, openai_service):
    use = janitor.cleaned(request, openai_service, required=False)
    fake = next(use)
    fake.reply("never taken")
    with pytest.raises(StopIteration):
        next(use)
    assert fake.pending == 0


def test_a_fake_without_control_api_is_refused_when_required_and_none_otherwise(request):
    unscriptable = _external(scriptable=False)
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception)) as refused:
        next(janitor.cleaned(request, unscriptable, required=True))
    strict = registry_of(request.config).settings.require_services  # CI runs strict: the refusal is a failure
    assert str(refused.value) == (
        "the OpenAI fake at TEST_OPENAI_BASE_URL=http://127.0.0.1:9/v1 cannot be scripted (no /_fake control"
        " API); scripted tests need TEST_OPENAI_MODE=embedded or python -m narrative_fixtures.services.openai.fake"
    ) + (" [strict mode: --require-services]" if strict else "")
    assert isinstance(refused.value, pytest.fail.Exception if strict else pytest.skip.Exception)
    use = janitor.cleaned(request, unscriptable, required=False)
    assert next(use) is None
    with pytest.raises(StopIteration):
        next(use)


def test_a_client_for_the_real_api_is_refused_in_one_line_naming_its_masked_url():
    real = OpenAIEndpoint("openai", "external", "https://api.openai.com/v1", "OpenAI", "unknown")
    with pytest.raises(pytest.fail.Exception) as refused:
        janitor.refuse_real_api(real)
    assert str(refused.value) == (
        "openai: refusing a client for https://api.openai.com/v1: it is the real OpenAI API; tests only talk to a"
        " fake (openai_service, or one from factories.fake_server_factory)"
    )
    assert refused.value.pytrace is False
