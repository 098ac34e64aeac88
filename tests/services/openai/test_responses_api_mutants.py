"""Self-tests that kill the mutation run's survivors in the fake's Responses API (``fake/responses_api.py``),
called in-process: the prompt text of each kind of input item, the usage a reply states or the token rule
counts, the request's settings echoed in the Response, the output items' ids, the tools as served, and the
exact answers of GET, DELETE and the input-item list (body, status, headers, the 404 naming the id)."""

from __future__ import annotations

import json
import re

from narrative_fixtures.services.openai.fake.models import ChatReply, FakeOpenAIState, SlowReply, ToolCall
from narrative_fixtures.services.openai.fake.responses import Incoming, Response, Stream
from narrative_fixtures.services.openai.fake.responses_api import (
    create_response,
    delete_response,
    input_items,
    item_text,
    list_input_items,
    message_content,
    output_items,
    response_body,
    response_usage,
    retrieve_response,
)

REQUEST = {"model": "gpt-4o-mini", "input": "Hello"}
API_HEADERS = {"x-request-id", "openai-version", "openai-processing-ms"}


def _post(state: FakeOpenAIState, body: dict) -> Response | Stream:
    return create_response(state, Incoming("POST", "/v1/responses", {}, body))


def _get(state: FakeOpenAIState, handler, response_id: str, query: str = "") -> Response:
    return handler(state, Incoming("GET", f"/v1/responses/{response_id}", {}, None, query=query), response_id)


def _served(state: FakeOpenAIState, body: dict = REQUEST) -> dict:
    answer = _post(state, body)
    assert answer.status == 200, answer.body
    return answer.body


def _not_found(answer: Response, response_id: str) -> None:
    assert answer.status == 404 and set(answer.headers) == API_HEADERS
    assert answer.body == {"error": {"message": f"Response with id '{response_id}' not found.",
                                     "type": "invalid_request_error", "param": None, "code": None}}


# --- input items and their prompt text --------------------------------------------------------------------------


def test_a_text_input_is_one_user_message_and_a_missing_input_none():
    assert input_items({"input": "Hello"}) == [{"type": "message", "role": "user", "content": "Hello"}]
    assert input_items({}) == [] and input_items({"input": None}) == []


def test_a_function_call_item_counts_its_name_and_arguments_each_possibly_missing():
    assert item_text({"type": "function_call", "name": "count_rows", "arguments": '{"t":1}'}) == 'count_rows{"t":1}'
    assert item_text({"type": "function_call", "arguments": "{}"}) == "{}"
    assert item_text({"type": "function_call", "name": "f"}) == "f"
    assert item_text({"type": "function_call", "name": "f", "content": "ignored"}) == "f"


def test_a_function_call_output_counts_its_text_or_its_text_parts():
    assert item_text({"type": "function_call_output", "call_id": "c", "output": "42 rows"}) == "42 rows"
    parts = [{"type": "input_text", "text": "ab"}, {"type": "input_image"}, "junk", {"type": "input_text", "text": "cd"}]
    assert item_text({"type": "function_call_output", "output": parts}) == "abcd"
    assert item_text({"type": "function_call_output", "output": None}) == ""
    assert item_text({"type": "function_call_output", "output": "x", "content": "ignored"}) == "x"


def test_a_message_counts_its_content_string_or_text_parts_and_nothing_else():
    assert item_text({"type": "message", "role": "user", "content": "Hi"}) == "Hi"
    assert item_text({"role": "user", "content": "Hi", "name": "not counted"}) == "Hi"
    assert message_content([{"type": "input_text", "text": "ab"}, {"type": "input_image"}, "x", {"text": "cd"}]) == "abcd"
    assert message_content(None) == "" and message_content(7) == "" and message_content("plain") == "plain"


# --- usage ------------------------------------------------------------------------------------------------------


def test_an_explicit_usage_is_served_as_given_in_either_naming():
    assert response_usage(ChatReply(usage={"input_tokens": 5, "output_tokens": 2, "total_tokens": 9}), REQUEST, []) == {
        "input_tokens": 5, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 9}
    chat_named = response_usage(ChatReply(usage={"prompt_tokens": 4, "completion_tokens": 3}), REQUEST, [])
    assert (chat_named["input_tokens"], chat_named["output_tokens"], chat_named["total_tokens"]) == (4, 3, 7)
    preferred = response_usage(ChatReply(usage={"input_tokens": 6, "prompt_tokens": 1, "output_tokens": 2,
                                                "completion_tokens": 1}), REQUEST, [])
    assert (preferred["input_tokens"], preferred["output_tokens"], preferred["total_tokens"]) == (6, 2, 8)
    partial = response_usage(ChatReply(usage={"output_tokens": 3}), REQUEST, [])
    assert (partial["input_tokens"], partial["output_tokens"], partial["total_tokens"]) == (0, 3, 3)
    empty = response_usage(ChatReply(usage={}), REQUEST, [])
    assert (empty["input_tokens"], empty["output_tokens"], empty["total_tokens"]) == (0, 0, 0)


def test_the_token_rule_counts_tools_instructions_and_each_tool_call():
    tools = [{"type": "function", "name": "count_rows", "parameters": {"type": "object"}}]
    conversation = [{"type": "message", "role": "user", "content": "Hello"}]
    plain = response_usage(ChatReply(content="Hi there!"), REQUEST, conversation)
    assert (plain["input_tokens"], plain["output_tokens"], plain["total_tokens"]) == (8, 3, 11)
    tools_json = json.dumps(tools, separators=(",", ":"), sort_keys=True)
    with_tools = response_usage(ChatReply(content="Hi there!"), {**REQUEST, "tools": tools}, conversation)
    assert with_tools["input_tokens"] == 8 + -(-len(tools_json) // 4)
    instructed = response_usage(ChatReply(content=""), {**REQUEST, "instructions": "Be brief"}, conversation)
    assert (instructed["input_tokens"], instructed["output_tokens"]) == (8 + 3 + 2, 0)
    calls = ChatReply(content="abcd", tool_calls=[ToolCall("count_rows", {"table": "users"}), ToolCall("f", "{}")])
    # "abcd" 1 token; "count_rows" + '{"table": "users"}' = 28 characters, 7 tokens; "f{}" 1 token
    assert response_usage(calls, REQUEST, conversation)["output_tokens"] == 1 + 7 + 1
    assert plain["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert plain["output_tokens_details"] == {"reasoning_tokens": 0}


# --- the Response object ---------------------------------------------------------------------------------------


def test_output_items_have_typed_ids_and_a_generated_call_id_of_24_hex_digits():
    message, call, named = output_items(ChatReply(content="Hi", tool_calls=[ToolCall("f"), ToolCall("g", id="call_x")]))
    assert re.fullmatch(r"msg_[0-9a-f]{32}", message["id"]) and re.fullmatch(r"fc_[0-9a-f]{32}", call["id"])
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["call_id"]) and named["call_id"] == "call_x"


def test_a_response_echoes_the_request_s_settings():
    body = {**REQUEST, "metadata": {"case": "1"}, "parallel_tool_calls": False, "temperature": 0.5, "top_p": 0.25,
            "text": {"verbosity": "low"}, "tool_choice": "required", "user": "user-1"}
    served = response_body(ChatReply(content="Hi"), body)
    assert re.fullmatch(r"resp_[0-9a-f]{32}", served["id"])
    assert (served["status"], served["background"], served["incomplete_details"]) == ("completed", False, None)
    assert (served["metadata"], served["parallel_tool_calls"], served["temperature"], served["top_p"]) == (
        {"case": "1"}, False, 0.5, 0.25)
    assert served["text"] == {"format": {"type": "text"}, "verbosity": "low"}
    assert (served["tool_choice"], served["user"]) == ("required", "user-1")


def test_a_response_to_a_bare_request_reads_the_api_s_defaults():
    served = response_body(ChatReply(content="Hi"), REQUEST)
    assert (served["metadata"], served["parallel_tool_calls"], served["temperature"], served["top_p"]) == (
        {}, True, 1.0, 1.0)
    assert (served["text"], served["tool_choice"], served["user"]) == (
        {"format": {"type": "text"}, "verbosity": "medium"}, "auto", None)
    assert served["usage"]["input_tokens"] == 8  # the request's own input, counted when no conversation is given


def test_tools_are_served_as_the_api_completes_them():
    web = {"type": "web_search", "search_context_size": "low"}
    declared = [web, {"type": "function", "name": "count_rows", "description": "Counts rows",
                      "parameters": {"type": "object"}, "extra": "dropped"},
                {"type": "function", "name": "loose", "strict": False}]
    served = response_body(ChatReply(content="Hi"), {**REQUEST, "tools": declared})["tools"]
    assert served == [web,
                      {"type": "function", "name": "count_rows", "description": "Counts rows",
                       "parameters": {"type": "object"}, "strict": True},
                      {"type": "function", "name": "loose", "description": None, "parameters": None, "strict": False}]


# --- POST /v1/responses ------------------------------------------------------------------------------------------


def test_an_unknown_previous_response_is_refused_naming_the_parameter():
    answer = _post(FakeOpenAIState(), {**REQUEST, "previous_response_id": "resp_gone"})
    assert answer.status == 400 and answer.body["error"] == {
        "message": "Previous response with id 'resp_gone' not found.", "type": "invalid_request_error",
        "param": "previous_response_id", "code": "previous_response_not_found"}


def test_a_call_output_for_no_call_is_refused_naming_its_call_id_and_the_input():
    body = {**REQUEST, "input": [{"type": "function_call_output", "call_id": "call_nowhere", "output": "1"}]}
    answer = _post(FakeOpenAIState(), body)
    assert answer.status == 400 and answer.body["error"] == {
        "message": "No tool call found for function call output with call_id call_nowhere.",
        "type": "invalid_request_error", "param": "input", "code": None}


def test_a_slow_reply_to_a_response_is_waited_for_then_answered():
    state = FakeOpenAIState()
    state.enqueue([SlowReply(0, then=ChatReply(content="late", endpoint="responses"), endpoint="responses")])
    served = _served(state)
    assert served["output"][0]["content"][0]["text"] == "late"


def test_a_streamed_response_sends_the_reply_s_words_per_chunk():
    state = FakeOpenAIState()
    state.enqueue([ChatReply(content="one two three four", words_per_chunk=2)])
    answer = _post(state, {**REQUEST, "stream": True})
    assert isinstance(answer, Stream) and answer.status == 200
    deltas = [json.loads(event.split(b"data: ", 1)[1])["delta"] for event in answer.events
              if event.startswith(b"event: response.output_text.delta\n")]
    assert deltas == ["one two ", "three four"]


# --- GET, DELETE and the input items of a stored Response --------------------------------------------------------


def test_a_stored_response_is_retrieved_as_served_with_the_api_s_headers():
    state = FakeOpenAIState()
    served = _served(state)
    answer = _get(state, retrieve_response, served["id"])
    assert (answer.status, answer.body, set(answer.headers)) == (200, served, API_HEADERS)
    _not_found(_get(state, retrieve_response, "resp_unknown"), "resp_unknown")


def test_a_deleted_response_answers_the_api_s_deletion_object_then_404():
    state = FakeOpenAIState()
    response_id = _served(state)["id"]
    answer = delete_response(state, Incoming("DELETE", f"/v1/responses/{response_id}", {}, None), response_id)
    assert (answer.status, set(answer.headers)) == (200, API_HEADERS)
    assert answer.body == {"id": response_id, "object": "response.deleted", "deleted": True}
    _not_found(delete_response(state, Incoming("DELETE", "/v1/responses/x", {}, None), response_id), response_id)


def test_the_input_items_of_a_stored_response_are_listed_with_the_api_s_headers():
    state = FakeOpenAIState()
    response_id = _served(state)["id"]
    answer = _get(state, list_input_items, response_id, query="order=asc&limit=5")
    assert (answer.status, set(answer.headers)) == (200, API_HEADERS)
    assert [item["content"] for item in answer.body["data"]] == [[{"type": "input_text", "text": "Hello"}]]
    assert _get(state, list_input_items, response_id, query="limit=0").status == 400
    _not_found(_get(state, list_input_items, "resp_unknown"), "resp_unknown")
