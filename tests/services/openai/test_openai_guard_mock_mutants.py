"""Self-tests that kill the mutation run's survivors in the guard server's answer (``fake/guard.py``) and
``mock_openai``'s refusals (``mock.py``): the 403 names the path the client asked for (no query, no guard
prefix); a refused mocked call raises the SDK's own error with OpenAI's body."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from narrative_fixtures.services.openai.fake import guard
from narrative_fixtures.services.openai.mock import build_mock


def _ask_guard(method: str, path: str, **request) -> httpx.Response:
    assert guard.guard_url() != guard.UNREACHABLE_URL, "the run's guard server is not listening"
    with httpx.Client(timeout=30) as client:
        return client.request(method, guard.guard_url() + path, **request)


def _blocked_target(answer: httpx.Response) -> str:
    assert answer.status_code == 403 and answer.headers["x-should-retry"] == "false"
    error = answer.json()["error"]
    assert error["code"] == guard.BLOCKED_CODE and error["type"] == "invalid_request_error"
    return error["message"].split(" (", 1)[1].split("): ", 1)[0]


def test_the_guard_names_the_path_without_its_query_or_the_guard_prefix():
    assert _blocked_target(_ask_guard("GET", "/models?after=a?b")) == "GET https://api.openai.com/v1/models, via OPENAI_BASE_URL"


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
