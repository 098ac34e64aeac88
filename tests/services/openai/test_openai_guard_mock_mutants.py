"""Self-tests that kill the mutation run's survivors in the guard server's answer (``fake/guard.py``) and
``mock_openai``'s refusals (``mock.py``): the 403 names the path the client asked for (no query, no guard
prefix); a refused mocked call raises the SDK's own error with OpenAI's body."""

from __future__ import annotations

import asyncio
import os

import httpx
import openai
import pytest
from pydantic import BaseModel

from narrative_fixtures.services.openai.fake import guard
from narrative_fixtures.services.openai.mock import build_mock


class Answer(BaseModel):
    text: str


def _ask_guard(method: str, path: str, **request) -> httpx.Response:
    assert guard.guard_url() != guard.UNREACHABLE_URL, "the run's guard server is not listening"
    with httpx.Client(timeout=30) as client:
        return client.request(method, guard.guard_url() + path, **request)


def _blocked_target(answer: httpx.Response) -> str:
    assert answer.status_code == 403 and answer.headers["x-should-retry"] == "false"
    error = answer.json()["error"]
    assert error["code"] == guard.BLOCKED_CODE and error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"} and error["param"] is None
    return error["message"].split(" (", 1)[1].split("): ", 1)[0]


def test_the_guard_names_the_path_without_its_query_or_the_guard_prefix():
    answer = _ask_guard("GET", "/models?after=a?b")
    assert _blocked_target(answer) == "GET https://api.openai.com/v1/models, via OPENAI_BASE_URL"
    assert answer.json()["error"]["message"] == (
        "narrative-fixtures blocked a call to the real OpenAI API (GET https://api.openai.com/v1/models, via"
        " OPENAI_BASE_URL): tests never reach it and never send a real key. Use the openai_client fixture (AsyncOpenAI"
        " bound to the local fake API; script its answers with openai_server) or mock_openai; a client you build"
        " yourself needs base_url=openai_service.url")


def test_without_a_guard_server_clients_get_an_address_that_never_resolves(monkeypatch):
    monkeypatch.setattr(guard, "_server", None)
    assert guard.guard_url() == guard.UNREACHABLE_URL == "http://real-openai-api-blocked.invalid/v1"


def test_a_nested_install_replaces_the_key_and_base_url_removes_the_others_and_gives_them_back(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.invalid/v1")
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin")
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    saved = guard.install()
    try:
        assert os.environ["OPENAI_API_KEY"] == guard.FAKE_API_KEY and os.environ["OPENAI_BASE_URL"] == guard.guard_url()
        assert "OPENAI_ADMIN_KEY" not in os.environ and guard.installed()
    finally:
        guard.uninstall(saved)
    assert (os.environ["OPENAI_API_KEY"], os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_ADMIN_KEY"]) == (
        "sk-user-key", "https://example.invalid/v1", "sk-admin")
    assert "AZURE_OPENAI_API_KEY" not in os.environ and guard.installed()  # the run's own install stays


def test_the_guard_answers_a_request_with_a_body_naming_its_method_and_path():
    answer = _ask_guard("POST", "/chat/completions", content=b'{"model": "gpt-4o"}')
    assert _blocked_target(answer) == "POST https://api.openai.com/v1/chat/completions, via OPENAI_BASE_URL"


def test_a_refused_mocked_embeddings_call_raises_the_sdk_error_with_openai_s_body():
    mock = build_mock("hi")
    with pytest.raises(openai.BadRequestError) as raised:
        mock.embeddings_answer(model="text-embedding-ada-002", input="a", dimensions=8)
    error = raised.value
    assert error.body == {"message": "This model does not support specifying dimensions.",
                          "type": "invalid_request_error", "param": "dimensions", "code": None}
    assert error.status_code == 400 and error.param == "dimensions"
    assert (error.response.request.method, str(error.response.request.url)) == (
        "POST", "http://mock-openai.invalid/v1/embeddings")


def _asked(mock) -> str:
    answer = asyncio.run(mock.client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]))
    return answer.choices[0].message.content


def test_one_answer_is_every_call_s_and_several_are_served_once_each_in_order():
    mock = build_mock("default")
    mock.respond_with("always")
    assert [_asked(mock), _asked(mock)] == ["always", "always"] and mock.response.choices[0].message.content == "always"
    mock.respond_with("first", "second")
    assert [_asked(mock), _asked(mock)] == ["first", "second"]


def test_a_completion_is_served_as_given_and_an_exception_is_raised_even_alone():
    mock = build_mock("default")
    given = mock.completion("built by the test")
    mock.respond_with(given)
    assert asyncio.run(mock.client.chat.completions.create(model="gpt-4o", messages=[])) is given
    mock.respond_with(RuntimeError("the API is down"))
    with pytest.raises(RuntimeError, match="the API is down"):
        _asked(mock)


def test_a_call_the_mock_does_not_mock_is_refused_with_a_403_saying_what_it_mocks():
    mock = build_mock("hi")
    with pytest.raises(openai.PermissionDeniedError) as raised:
        asyncio.run(mock.client.models.retrieve("gpt-4o"))
    error = raised.value
    assert error.code == "not_mocked" and error.response.headers["x-should-retry"] == "false"
    assert error.body["message"] == (
        "mock_openai does not mock GET /v1/models/gpt-4o: only chat.completions.create, responses.create, responses.parse"
        " and embeddings.create are (set their mock's return_value or side_effect); use openai_client for the HTTP fake")


def test_a_mocked_response_counts_its_usage_as_one_empty_user_message():
    answer = build_mock("hi").responses_answer()
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (3 + 3, 1)  # priming + one message, no text
    assert answer.output_text == "hi"


def test_the_mock_client_never_retries_holds_the_fake_key_and_answers_with_its_content_and_model():
    mock = build_mock("hello", model="gpt-4o-mini")
    assert mock.client.max_retries == 0 and mock.client.api_key == guard.FAKE_API_KEY
    assert (mock.response.choices[0].message.content, mock.response.model) == ("hello", "gpt-4o-mini")


def test_mocked_embeddings_and_parse_calls_pass_on_what_the_call_gave():
    mock = build_mock('{"text": "hi"}')
    create = mock.client.embeddings.create
    answer = asyncio.run(create(model="text-embedding-3-small", input="a", dimensions=8))
    assert len(answer.data[0].embedding) == 8
    with pytest.raises(openai.BadRequestError, match="encoding_format"):
        asyncio.run(create(model="text-embedding-3-small", input="a", encoding_format="utf8"))
    parsed = asyncio.run(mock.client.responses.parse(model="gpt-4o-mini", input="hi", text_format=Answer))
    assert parsed.model == "gpt-4o-mini" and parsed.output_parsed == Answer(text="hi")


def test_the_guard_server_starts_on_loopback_named_and_answers_every_method(monkeypatch):
    monkeypatch.setattr(guard, "_server", guard._server)  # the run's own server comes back after the test
    guard._start_guard_server()
    started = guard._server
    try:
        assert started is not None and started.alive() and started.url.startswith("http://127.0.0.1:")
        assert (started.name, started.setting, started.timeout) == ("openai-guard", "TEST_OPENAI_MODE", 5)
        assert started.thread.name == "narrative-openai-guard" and started.server.daemon_threads is True
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert _blocked_target(_ask_guard(method, "/files")) == f"{method} https://api.openai.com/v1/files, via OPENAI_BASE_URL"
    finally:
        started.stop()
