"""Steps of the OpenAI feature: thin, they drive the real OpenAI SDK against the plugin's fake (or its mock)."""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.openai import FAKE_API_KEY, factories
from narrative_fixtures.services.openai.fake import DEFAULT_CONTENT
from narrative_fixtures.services.openai.fake.guard import is_real_openai
from steps.common import lazy_module, run_nested

openai = lazy_module("openai")  # imported at the first OpenAI step, not while pytest starts (~1 s)

MODEL = "gpt-4o-mini"
QUOTED = r'"(?P<{}>[^"]*)"'
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text)


def _canned(kind: str) -> str:
    return kind.strip().replace(" ", "_")


def _user(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


@dataclass
class Asked:
    """What a When step did: the question(s), the answer(s) or the SDK's exception, stream chunks."""

    question: str = ""
    completion: Any = None
    error: Exception | None = None
    completions: list = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    chunks: list = field(default_factory=list)
    details: dict = field(default_factory=dict)


async def _try(awaitable) -> tuple[Any, Exception | None]:
    try:
        return await awaitable, None
    except openai.OpenAIError as error:
        return None, error


# --- background and readiness ----------------------------------------------------------------------------------


@given("a fake OpenAI API for this test", target_fixture="fake")
def fake_api(openai_server):
    assert openai_server.pending == 0, "the test did not start with an empty script"
    assert openai_server.requests == [], "the test did not start with an empty record"
    return openai_server


@then("the OpenAI client reaches the fake API, never the real one")
def reaches_fake(openai_client, openai_service, run_async):
    host = urlsplit(str(openai_client.base_url)).hostname
    assert str(openai_client.base_url).rstrip("/") == openai_service.url
    assert not is_real_openai(host)
    if openai_service.mode == "embedded":
        assert host in LOOPBACK_HOSTS
    assert run_async(openai_client.models.list()).data


@then(parsers.parse("the fake API lists the models {names}"))
def lists_models(openai_client, run_async, names):
    listed = {model.id for model in run_async(openai_client.models.list()).data}
    assert set(_quoted(names)) <= listed


@then("the fake API received a test key, never a real one")
def received_test_key(fake, openai_client):
    assert fake.requests, "the fake API received no request"
    assert {entry.headers.get("authorization") for entry in fake.requests} == {"Bearer ***"}  # masked in the record
    assert openai_client.api_key == fake.api_key
    assert os.environ.get("OPENAI_API_KEY") == FAKE_API_KEY, "a real key stays out of the environment during the run"


@then("a synchronous OpenAI client gets its answers from the same fake API")
def sync_client(fake, openai_sync_client):
    fake.reply("answered synchronously")
    answer = openai_sync_client.chat.completions.create(model=MODEL, messages=_user("Are you there?"))
    assert answer.choices[0].message.content == "answered synchronously"
    assert str(openai_sync_client.base_url).rstrip("/") == fake.url
    assert fake.chat_requests[-1].messages == _user("Are you there?")


# --- the mock --------------------------------------------------------------------------------------------------


@given("a mocked OpenAI client", target_fixture="mocked")
def mocked_client(mock_openai):
    return mock_openai


@then("the mocked chat completion returns a complete completion with choices, usage and model")
def mocked_completion(mocked, run_async):
    answer = run_async(mocked.client.chat.completions.create(model="gpt-4", messages=_user("Summarise my dataset")))
    assert answer is mocked.response
    assert isinstance(answer, openai.types.chat.ChatCompletion)
    assert answer.model == "gpt-4" and answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.choices[0].message.role == "assistant" and answer.choices[0].message.content
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0
    mocked.async_mock.assert_awaited_once_with(model="gpt-4", messages=_user("Summarise my dataset"))


@then("a misspelled argument or attribute of the mocked client fails instead of passing")
def mocked_is_strict(mocked, run_async):
    with pytest.raises(TypeError, match="messages"):
        mocked.client.chat.completions.create(model="gpt-4", mesages=_user("typo"))
    with pytest.raises(AttributeError):
        mocked.client.chat.completion  # noqa: B018 - the SDK has no such attribute
    with pytest.raises(AttributeError):
        mocked.async_mock.assert_awaited_once_wiht  # noqa: B018 - a misspelled assertion must not pass silently
    with pytest.raises(openai.PermissionDeniedError, match="mock_openai does not mock GET /v1/models"):
        run_async(mocked.client.models.list())


# --- asking the assistant --------------------------------------------------------------------------------------


@when(parsers.re(r"the assistant is asked " + QUOTED.format("question")), target_fixture="asked")
def ask(openai_client, run_async, question):
    completion, error = run_async(_try(openai_client.chat.completions.create(model=MODEL, messages=_user(question))))
    return Asked(question, completion, error)


@when(parsers.re(r"the assistant is asked {} using model {}".format(QUOTED.format("question"), QUOTED.format("model"))), target_fixture="asked")
def ask_model(openai_client, run_async, question, model):
    completion = run_async(openai_client.chat.completions.create(model=model, messages=_user(question)))
    return Asked(question, completion)


@then(parsers.re(r"the answer is a complete chat completion from model " + QUOTED.format("model")))
def complete_answer(asked, model):
    answer = asked.completion
    assert isinstance(answer, openai.types.chat.ChatCompletion)
    assert answer.id.startswith("chatcmpl-") and answer.object == "chat.completion" and answer.created > 0
    assert answer.model == model
    [choice] = answer.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content and choice.message.tool_calls is None
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert answer._request_id and answer._request_id.startswith("req_")


@then(parsers.re(r"the fake API received the question as the last user message for model " + QUOTED.format("model")))
def received_question(fake, asked, model):
    [entry] = fake.chat_requests
    assert entry.method == "POST" and entry.model == model
    assert entry.messages[-1] == {"role": "user", "content": asked.question}


# --- canned responses ------------------------------------------------------------------------------------------


@then("there are canned responses for data summarization, model recommendation and error diagnosis")
def canned_kinds(test_openai_response):
    assert set(test_openai_response) == {"data_summarization", "model_recommendation", "error_diagnosis"}
    assert all(isinstance(text, str) and len(text) > 80 for text in test_openai_response.values())
    assert json.loads(test_openai_response["model_recommendation"])["recommended_model"]


@then(parsers.re(r"every canned response is about the sample dataset with the columns (?P<columns>.+)"))
def canned_about_dataset(test_openai_response, columns):
    names = _quoted(columns)
    assert all(name in test_openai_response["data_summarization"] for name in names)
    for kind, text in test_openai_response.items():
        assert any(name in text for name in names), f"the canned {kind} response names none of {names}"


@given(parsers.re(r"the fake API answers with the canned (?P<kind>[a-z ]+) response"))
def fake_answers_canned(fake, test_openai_response, kind):
    fake.reply(test_openai_response[_canned(kind)])


@when(parsers.re(r"the backend asks for a summary of the dataset with the columns (?P<columns>.+)"), target_fixture="asked")
def ask_summary(openai_client, run_async, columns):
    names = _quoted(columns)
    messages = [
        {"role": "system", "content": "You are a data analyst. Summarise datasets for non-experts."},
        {"role": "user", "content": f"Summarise this dataset. Columns: {', '.join(names)}. Rows: 5."},
    ]
    completion = run_async(openai_client.chat.completions.create(model=MODEL, messages=messages))
    return Asked(messages[-1]["content"], completion)


@then(parsers.re(r"the summary says the dataset has (?P<rows>\d+) rows and (?P<columns>\d+) columns"))
def summary_shape(asked, rows, columns):
    assert f"{rows} rows and {columns} columns" in asked.completion.choices[0].message.content


@then(parsers.re(r"the fake API received a system instruction and the columns (?P<columns>.+)"))
def summary_prompt(fake, columns):
    [entry] = fake.chat_requests
    assert [message["role"] for message in entry.messages] == ["system", "user"]
    assert all(name in entry.messages[-1]["content"] for name in _quoted(columns))


@when(parsers.re(r"the backend asks for a model recommendation as JSON for the target " + QUOTED.format("target")), target_fixture="asked")
def ask_recommendation(openai_client, run_async, target):
    question = f"Recommend a model to predict '{target}'. Answer as a JSON object."
    completion = run_async(
        openai_client.chat.completions.create(
            model=MODEL, messages=_user(question), response_format={"type": "json_object"}
        )
    )
    return Asked(question, completion)


@then(parsers.re(r"the recommendation names the model {} for a {} task".format(QUOTED.format("model"), QUOTED.format("task"))))
def recommendation(asked, model, task):
    parsed = json.loads(asked.completion.choices[0].message.content)
    assert (parsed["recommended_model"], parsed["task"]) == (model, task)
    assert 0 < parsed["confidence"] <= 1


@then("the fake API was asked for a JSON object answer")
def asked_for_json(fake):
    assert fake.chat_requests[-1].body["response_format"] == {"type": "json_object"}


# --- failures and retries --------------------------------------------------------------------------------------

FAILURES = {
    "an invalid API key error (401)": lambda fake: fake.fail(401),
    "a rate limit error (429)": lambda fake: fake.fail(429, retry_after=0.01),
    # Retry-After: 10 ms, or the SDK's own backoff (0.5 s and more) would dominate the scenario; the retry stays real
    "a server error (500)": lambda fake: fake.fail(500, retry_after=0.01),
    "a response slower than the timeout": lambda fake: fake.slow(5.0),
}


@given(parsers.re(r"the fake API answers the next request with (?P<failure>.+)"))
def next_request_fails(fake, failure):
    FAILURES[failure](fake)


@when(
    parsers.re(r"the assistant is asked {} without retries and with a (?P<timeout>[\d.]+) second timeout".format(QUOTED.format("question"))),
    target_fixture="asked",
)
def ask_once(openai_client, run_async, question, timeout):
    client = openai_client.with_options(max_retries=0, timeout=float(timeout))
    completion, error = run_async(_try(client.chat.completions.create(model=MODEL, messages=_user(question))))
    return Asked(question, completion, error)


@then(parsers.re(r"the call fails with the SDK's (?P<exception>\w+)"))
def fails_with(asked, exception):
    assert asked.completion is None, f"the call succeeded: {asked.completion}"
    assert type(asked.error) is getattr(openai, exception), f"{type(asked.error).__name__}: {asked.error}"
    if isinstance(asked.error, openai.APIStatusError):
        assert asked.error.body["message"] and asked.error.request_id.startswith("req_")
    if isinstance(asked.error, openai.RateLimitError):
        assert asked.error.response.headers["retry-after"] == "1"  # whole seconds, rounded up from 10 ms


@then(parsers.re(r"the fake API received exactly (?P<count>\d+) requests?"))
def received_count(fake, count):
    assert len(fake.chat_requests) == int(count)


@then("the answer is the fake API's standard answer")
def standard_answer(asked):
    assert asked.error is None, f"the call failed: {asked.error!r}"
    assert asked.completion.choices[0].message.content == DEFAULT_CONTENT


@then(parsers.re(r"the fake API received (?P<count>\d+) requests, answered (?P<first>\d+) then 200"))
def retried(fake, count, first):
    assert [entry.status for entry in fake.chat_requests] == [int(first), 200]
    assert len(fake.chat_requests) == int(count)
    bodies = [entry.body for entry in fake.chat_requests]
    assert bodies[0] == bodies[1], "the SDK retried the same request"
    retry_counts = [entry.headers.get("x-stainless-retry-count") for entry in fake.chat_requests]
    assert retry_counts == ["0", "1"], retry_counts


# --- streaming -------------------------------------------------------------------------------------------------


@given(parsers.re(r"the fake API answers with " + QUOTED.format("answer")))
def fake_answers(fake, answer):
    fake.reply(answer)


@when(parsers.re(r"the assistant streams its answer to {} with usage reporting".format(QUOTED.format("question"))), target_fixture="asked")
def ask_streaming(openai_client, run_async, question):
    async def collect():
        stream = await openai_client.chat.completions.create(
            model=MODEL, messages=_user(question), stream=True, stream_options={"include_usage": True}
        )
        return [chunk async for chunk in stream]

    return Asked(question, chunks=run_async(collect()))


@then(parsers.re(r"the answer arrived in (?P<count>\d+) chunks of text"))
def chunk_count(asked, count):
    assert all(isinstance(chunk, openai.types.chat.ChatCompletionChunk) for chunk in asked.chunks)
    texts = [chunk.choices[0].delta.content for chunk in asked.chunks if chunk.choices and chunk.choices[0].delta.content]
    assert len(texts) == int(count)


@then(parsers.re(r"the chunks reassemble into " + QUOTED.format("text")))
def chunks_reassemble(asked, text):
    assert "".join(chunk.choices[0].delta.content or "" for chunk in asked.chunks if chunk.choices) == text
    assert len({chunk.id for chunk in asked.chunks}) == 1, "every chunk belongs to the same completion"


@then(
    parsers.re(
        r'the stream ended with finish reason "(?P<reason>\w+)" and a usage report of (?P<prompt>\d+) prompt'
        r" and (?P<completion>\d+) completion tokens"
    )
)
def stream_end(asked, reason, prompt, completion):
    *content, finish, usage = asked.chunks
    assert finish.choices[0].finish_reason == reason and finish.usage is None
    assert all(chunk.choices[0].finish_reason is None for chunk in content)
    assert usage.choices == [] and (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (int(prompt), int(completion))


# --- tool calling ----------------------------------------------------------------------------------------------


class GetDatasetStats(BaseModel):
    """Compute summary statistics of some columns of a dataset."""

    dataset_id: str
    columns: list[str]


@given(
    parsers.re(
        r"the fake API calls the tool {} for the dataset {} and the columns (?P<columns>.+)".format(
            QUOTED.format("tool"), QUOTED.format("dataset")
        )
    )
)
def fake_calls_tool(fake, tool, dataset, columns):
    fake.reply_with_tool_call(tool, {"dataset_id": dataset, "columns": _quoted(columns)})


@when(parsers.re(r"the assistant is asked {} offering the tool {}".format(QUOTED.format("question"), QUOTED.format("tool"))), target_fixture="asked")
def ask_with_tool(openai_client, run_async, question, tool):
    tools = [openai.pydantic_function_tool(GetDatasetStats, name=tool)]
    completion = run_async(openai_client.chat.completions.parse(model=MODEL, messages=_user(question), tools=tools))
    return Asked(question, completion, details={"tools": tools})


@then(parsers.re(r"the answer is a call of {} with finish reason {}".format(QUOTED.format("tool"), QUOTED.format("reason"))))
def tool_called(asked, fake, tool, reason):
    [choice] = asked.completion.choices
    assert choice.finish_reason == reason and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == tool and call.id.startswith("call_")
    assert fake.chat_requests[-1].body["tools"][0]["function"]["name"] == tool  # the declaration reached the API


@then(parsers.re(r"its arguments parse into the declared parameters: dataset {}, columns (?P<columns>.+)".format(QUOTED.format("dataset"))))
def tool_arguments(asked, dataset, columns):
    [call] = asked.completion.choices[0].message.tool_calls
    assert isinstance(call.function.arguments, str), "arguments travel as a JSON string"
    expected = GetDatasetStats(dataset_id=dataset, columns=_quoted(columns))
    assert call.function.parsed_arguments == expected
    assert GetDatasetStats.model_validate_json(call.function.arguments) == expected


# --- token usage -----------------------------------------------------------------------------------------------


@then(parsers.re(r"the usage reports (?P<prompt>\d+) prompt tokens, (?P<completion>\d+) completion tokens and (?P<total>\d+) in total"))
def usage_reported(asked, prompt, completion, total):
    usage = asked.completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (int(prompt), int(completion), int(total))


# --- sequences -------------------------------------------------------------------------------------------------


@given(parsers.re(r'the fake API answers with (?P<answers>"[^"]*"(?:(?:, | and )"[^"]*")+) in that order'))
def fake_answers_in_order(fake, answers):
    fake.script(*_quoted(answers))


@when(parsers.re(r"the assistant is asked (?P<count>\d+) questions in a row"), target_fixture="asked")
def ask_several(openai_client, run_async, count):
    questions = [f"Question {number}" for number in range(1, int(count) + 1)]
    completions = [
        run_async(openai_client.chat.completions.create(model=MODEL, messages=_user(question))) for question in questions
    ]
    return Asked(completions=completions, questions=questions)


@then(parsers.re(r"the answers are (?P<answers>.+) and the fake API's standard answer"))
def answers_in_order(asked, answers):
    received = [completion.choices[0].message.content for completion in asked.completions]
    assert received == [*_quoted(answers), DEFAULT_CONTENT]


@then(parsers.re(r"the fake API received the (?P<count>\d+) questions in the order they were asked"))
def questions_in_order(fake, asked, count):
    assert [entry.messages[-1]["content"] for entry in fake.chat_requests] == asked.questions
    assert len(asked.questions) == int(count)


# --- canned responses through the mock -------------------------------------------------------------------------


@given(parsers.re(r"a mocked OpenAI client answering with the canned (?P<kind>[a-z ]+) response"), target_fixture="mocked")
def mocked_canned(mock_openai, test_openai_response, kind):
    mock_openai.respond_with(test_openai_response[_canned(kind)])
    return mock_openai


@when(parsers.re(r"the backend asks the mocked client " + QUOTED.format("question")), target_fixture="asked")
def ask_mocked(mocked, run_async, question):
    return Asked(question, run_async(mocked.client.chat.completions.create(model="gpt-4", messages=_user(question))))


@then(parsers.re(r"the backend receives the canned (?P<kind>[a-z ]+) response"))
def receives_canned(asked, test_openai_response, kind):
    assert asked.completion.choices[0].message.content == test_openai_response[_canned(kind)]
    assert asked.completion.usage.completion_tokens > 0


@then(parsers.re(r"the mocked call was awaited once with model {} and that question".format(QUOTED.format("model"))))
def mocked_awaited(mocked, asked, model):
    mocked.async_mock.assert_awaited_once_with(model=model, messages=_user(asked.question))


# --- never the real API ----------------------------------------------------------------------------------------

UNGUARDED_CLIENTS = {
    "built with the default settings": {},
    "pointed explicitly at api.openai.com": {"base_url": "https://api.openai.com/v1"},
}


@when(parsers.re(r"code under test calls OpenAI with a client (?P<configured>.+)"), target_fixture="asked")
def call_unguarded(run_async, monkeypatch, configured):
    lookups, connections = [], []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        connections.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)

    async def call():
        client = openai.AsyncOpenAI(**UNGUARDED_CLIENTS[configured])  # what application code typically does
        try:
            return await _try(client.chat.completions.create(model="gpt-4", messages=_user("Summarise my dataset")))
        finally:
            await client.close()

    completion, error = run_async(call())
    return Asked(completion=completion, error=error, details={"lookups": lookups, "connections": connections})


@then("the call is refused with a message saying to use the openai_client fixture")
def refused(asked):
    assert isinstance(asked.error, openai.PermissionDeniedError), repr(asked.error)
    assert "blocked a call to the real OpenAI API" in str(asked.error)
    assert "openai_client fixture" in str(asked.error)


@then("no request left this machine and no real key was used")
def nothing_left(asked):
    assert not any(is_real_openai(str(host)) for host in asked.details["lookups"]), asked.details["lookups"]
    assert all(address[0] in LOOPBACK_HOSTS for address in asked.details["connections"]), asked.details["connections"]
    assert asked.error.request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"


# --- isolation -------------------------------------------------------------------------------------------------

ISOLATION_TESTS = '''
import pytest

@pytest.mark.asyncio
async def test_one_scripts(openai_server, openai_client):
    openai_server.reply("only for test one").reply("also for test one").set_default("test one's default")
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "only for test one"
    assert len(openai_server.requests) == 1 and openai_server.pending == 1

@pytest.mark.asyncio
async def test_two_starts_clean(openai_server, openai_client):
    assert openai_server.requests == [] and openai_server.pending == 0
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "This is a response from the fake OpenAI API."
'''


@then("a test that scripts the fake API leaves nothing behind for the test after it")
def isolation(openai_service, pytester: pytest.Pytester):
    # Two ordinary pytest-asyncio tests of "another project" (function-scoped loops), run in order.
    result = run_nested(pytester, ISOLATION_TESTS)
    result.assert_outcomes(passed=2)


# --- a second fake from the plugin's factories -----------------------------------------------------------------

# What a project's conftest writes for a second fake OpenAI API: its own port, script, record and client.
openai_second_fake = factories.fake_server_factory(name="second")
second_fake_script = factories.controller_factory("openai_second_fake")
second_fake_client = factories.client_factory("openai_second_fake", controller="second_fake_script")


@given("a second fake OpenAI API and its client, made from the plugin's factories", target_fixture="second")
def second_fake(openai_service, openai_second_fake, second_fake_script, second_fake_client):
    assert openai_second_fake.url != openai_service.url, "the second fake serves on a port of its own"
    assert second_fake_script.requests == [] and second_fake_script.pending == 0, "it starts clean"
    return second_fake_script


@when(
    parsers.parse("the run's fake answers \"{first}\" and the second fake answers \"{second_answer}\""),
    target_fixture="asked",
)
def ask_both(fake, second, openai_client, second_fake_client, run_async, first, second_answer):
    fake.reply(first)
    second.reply(second_answer)
    asked = Asked("Which columns does my dataset have?")
    for client in (openai_client, second_fake_client):
        asked.completions.append(run_async(client.chat.completions.create(model=MODEL, messages=_user(asked.question))))
    return asked


@then(parsers.parse('the clients get "{first}" and "{second_answer}", and each fake recorded only its own request'))
def each_its_own(fake, second, asked, first, second_answer):
    assert [completion.choices[0].message.content for completion in asked.completions] == [first, second_answer]
    assert len(fake.chat_requests) == 1 and len(second.chat_requests) == 1
    assert fake.pending == 0 and second.pending == 0
