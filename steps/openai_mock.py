"""Steps of the OpenAI feature for ``mock_openai``, the story's mocked client: complete answers, canned responses,
and strictness (a misspelled argument or attribute fails)."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, then, when

from steps.openai_support import QUOTED, Asked, canned, openai, user


# --- the mock -----------------------------------------------------------------------------------------------


@given("a mocked OpenAI client", target_fixture="mocked")
def mocked_client(mock_openai):
    return mock_openai


@then("the mocked chat completion returns a complete completion with choices, usage and model")
def mocked_completion(mocked, run_async):
    answer = run_async(mocked.client.chat.completions.create(model="gpt-4", messages=user("Summarise my dataset")))
    assert answer is mocked.response
    assert isinstance(answer, openai.types.chat.ChatCompletion)
    assert answer.model == "gpt-4" and answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.choices[0].message.role == "assistant" and answer.choices[0].message.content
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0
    mocked.async_mock.assert_awaited_once_with(model="gpt-4", messages=user("Summarise my dataset"))


@then("a misspelled argument or attribute of the mocked client fails instead of passing")
def mocked_is_strict(mocked, run_async):
    with pytest.raises(TypeError, match="messages"):
        mocked.client.chat.completions.create(model="gpt-4", mesages=user("typo"))
    with pytest.raises(TypeError, match="inptu"):
        mocked.client.responses.create(model="gpt-4o", inptu="typo")
    with pytest.raises(TypeError, match="input"):
        mocked.client.embeddings.create(model="text-embedding-3-small", inputs=["typo"])
    with pytest.raises(AttributeError):
        mocked.client.chat.completion  # noqa: B018 - the SDK has no such attribute
    with pytest.raises(AttributeError):
        mocked.client.responses.craete  # noqa: B018
    with pytest.raises(AttributeError):
        mocked.async_mock.assert_awaited_once_wiht  # noqa: B018 - a misspelled assertion must not pass silently
    with pytest.raises(openai.PermissionDeniedError, match="mock_openai does not mock GET /v1/models"):
        run_async(mocked.client.models.list())


# --- canned responses through the mock ----------------------------------------------------------------------


@given(parsers.re(r"a mocked OpenAI client answering with the canned (?P<kind>[a-z ]+) response"), target_fixture="mocked")
def mockedcanned(mock_openai, test_openai_response, kind):
    mock_openai.respond_with(test_openai_response[canned(kind)])
    return mock_openai


@when(parsers.re(r"the backend asks the mocked client " + QUOTED.format("question")), target_fixture="asked")
def ask_mocked(mocked, run_async, question):
    return Asked(question, run_async(mocked.client.chat.completions.create(model="gpt-4", messages=user(question))))


@then(parsers.re(r"the backend receives the canned (?P<kind>[a-z ]+) response"))
def receivescanned(asked, test_openai_response, kind):
    assert asked.completion.choices[0].message.content == test_openai_response[canned(kind)]
    assert asked.completion.usage.completion_tokens > 0


@then(parsers.re(r"the mocked call was awaited once with model {} and that question".format(QUOTED.format("model"))))
def mocked_awaited(mocked, asked, model):
    mocked.async_mock.assert_awaited_once_with(model=model, messages=user(asked.question))
