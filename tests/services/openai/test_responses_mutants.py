"""Self-tests that kill the mutation run's survivors in the fake's shared protocol (``fake/responses.py``), called
in-process: compact JSON on the wire, OpenAI's headers on the models routes, the 404s' wording, the script
problem's 500, a slow default reply, and the control API's answers read back exactly (body, status, param)."""

from __future__ import annotations

import re

import pytest

from narrative_fixtures.services.openai.fake import responses
from narrative_fixtures.services.openai.fake.models import MODELS, ChatReply, FakeOpenAIState, SlowReply
from narrative_fixtures.services.openai.fake.responses import (
    FAKE_NAME,
    FAKE_VERSION,
    Incoming,
    Response,
    add_to_script,
    api_headers,
    bad_content_length,
    event_stream,
    health,
    list_models,
    not_found,
    recorded,
    reply_for,
    reset,
    retrieve_model,
    script_problem,
    set_default,
    sse,
    take_problems,
)

API_HEADERS = {"x-request-id", "openai-version", "openai-processing-ms"}


def _control(body: object = None) -> Incoming:
    return Incoming("POST", "/_fake/script", {}, body)


def _invalid(message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def test_json_goes_on_the_wire_compact():
    assert Response(200, {"a": [1, 2], "b": None}).payload() == b'{"a":[1,2],"b":null}'
    assert sse({"a": 1, "b": "x"}) == b'data: {"a":1,"b":"x"}\n\n'
    assert sse({"a": 1}, "response.created") == b'event: response.created\ndata: {"a":1}\n\n'


def test_every_answer_carries_openai_s_version_and_processing_headers():
    headers = api_headers()
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers.pop("x-request-id"))
    assert headers == {"openai-version": "2020-10-01", "openai-processing-ms": "1"}


def test_an_event_stream_is_a_200_of_server_sent_events():
    stream = event_stream(iter(()))
    assert stream.status == 200 and stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert API_HEADERS <= set(stream.headers)


def test_an_unknown_url_is_a_404_naming_method_and_path():
    answer = not_found(Incoming("DELETE", "/v1/nowhere", {}, None))
    assert (answer.status, answer.body) == (404, _invalid("Invalid URL (DELETE /v1/nowhere)"))
    assert set(answer.headers) == API_HEADERS


def test_a_bad_content_length_is_quoted_cut_at_40_characters():
    value = "9" * 39 + "ab"
    expected = f"Invalid Content-Length header: {value[:40]!r} (expected a number of bytes)."
    assert bad_content_length(value).body == _invalid(expected)
    assert "'" + "9" * 39 + "a'" in expected


def test_the_models_routes_answer_200_with_openai_s_headers_and_a_named_404():
    state = FakeOpenAIState()
    listed = list_models(state, Incoming("GET", "/v1/models", {}, None))
    assert (listed.status, set(listed.headers)) == (200, API_HEADERS)
    assert [model["id"] for model in listed.body["data"]] == [entry[0] for entry in MODELS]
    found = retrieve_model(state, Incoming("GET", "/v1/models/gpt-4o", {}, None), "gpt-4o")
    assert (found.status, set(found.headers), found.body["id"]) == (200, API_HEADERS, "gpt-4o")
    missing = retrieve_model(state, Incoming("GET", "/v1/models/gpt-9", {}, None), "gpt-9")
    assert (missing.status, missing.body) == (404, _invalid(
        "The model 'gpt-9' does not exist or you do not have access to it.", "model", "model_not_found"))


def test_a_slow_default_after_a_slow_reply_waits_once_then_answers_the_standard_reply():
    state = FakeOpenAIState()
    state.set_default(SlowReply(0))
    state.enqueue([SlowReply(0)])
    assert reply_for(state, Incoming("POST", "/v1/responses", {}, {}), "responses") == ChatReply()


def test_a_script_problem_is_a_500_the_sdk_does_not_retry_and_is_noted():
    state = FakeOpenAIState()
    answer = script_problem(state, "the reply is no JSON")
    assert answer.status == 500 and answer.headers["x-should-retry"] == "false"
    assert answer.body == {"error": {"message": "fake OpenAI API: the reply is no JSON", "type": "server_error",
                                     "param": None, "code": "fake_script_problem"}}
    assert state.problems() == ["the reply is no JSON"]


def test_health_names_the_fake_its_version_and_what_is_pending():
    state = FakeOpenAIState()
    state.enqueue([ChatReply()])
    answer = health(state, Incoming("GET", "/_fake/health", {}, None))
    assert (answer.status, answer.body) == (200, {"fake": FAKE_NAME, "version": FAKE_VERSION, "pending": 1})


def test_adding_to_the_script_answers_what_is_pending_and_refuses_a_bad_reply_naming_replies():
    state = FakeOpenAIState()
    added = add_to_script(state, _control({"replies": [{"content": "a"}, {"kind": "error", "status": 500}]}))
    assert (added.status, added.body) == (200, {"pending": 2})
    assert (add_to_script(state, _control({})).status, add_to_script(state, _control(None)).body) == (200, {"pending": 2})
    refused = add_to_script(state, _control({"replies": [{"kind": "weird"}]}))
    assert (refused.status, refused.body) == (400, _invalid(
        "bad reply description: unknown reply kind 'weird' (chat, error or slow)", "replies"))
    assert state.pending() == 2


def test_setting_the_default_answers_it_and_refuses_a_bad_one_naming_reply():
    state = FakeOpenAIState()
    answer = set_default(state, _control({"reply": {"content": "always"}}))
    assert answer.status == 200 and answer.body == {"default": {
        "content": "always", "tool_calls": (), "model": None, "finish_reason": None, "usage": None,
        "words_per_chunk": 1, "endpoint": None, "kind": "chat"}}
    refused = set_default(state, _control({"reply": {"kind": "weird"}}))
    assert (refused.status, refused.body) == (400, _invalid(
        "bad reply description: unknown reply kind 'weird' (chat, error or slow)", "reply"))
    assert set_default(state, _control({})).body == _invalid("bad reply description: 'reply'", "reply")


def test_the_record_answers_requests_dropped_counts_and_problems():
    state = FakeOpenAIState()
    state.count("chat")
    state.add_problem("p")
    answer = recorded(state, Incoming("GET", "/_fake/requests", {}, None))
    assert (answer.status, answer.body) == (200, {"requests": [], "dropped": 0, "counts": {"chat": 1},
                                                  "problems": ["p"]})
    taken = take_problems(state, Incoming("POST", "/_fake/problems/take", {}, None))
    assert (taken.status, taken.body, state.problems()) == (200, {"problems": ["p"]}, [])


def test_a_reset_answers_nothing_pending():
    state = FakeOpenAIState()
    state.enqueue([ChatReply()])
    answer = reset(state, Incoming("POST", "/_fake/reset", {}, None))
    assert (answer.status, answer.body, state.pending()) == (200, {"pending": 0}, 0)


def test_a_name_the_module_never_had_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match=r"^module '.*fake\.responses' has no attribute 'nothing_here'$"):
        responses.nothing_here  # noqa: B018 - the attribute access is the test
