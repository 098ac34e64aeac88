"""The fake OpenAI API on bad requests: OpenAI's own 400/401 answers (the capped body and the bounded record:
``test_openai_record_bounds``).

Each bad input goes through a raw HTTP client (``http.client``: it sends whatever it is told, a non-numeric
``Content-Length`` too) and, where the SDK can send it, through the real ``openai`` SDK, which must raise its own
``BadRequestError`` / ``AuthenticationError`` carrying the fake's message. Error bodies are compared whole.
"""

from __future__ import annotations

import json
import threading

import httpx
import openai
import pytest

from narrative_fixtures.services.openai.fake import FakeOpenAIServer

from .raw_http import AUTH, post_json, sdk, send

HELLO = [{"role": "user", "content": "Hello"}]
NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth"
    " (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the"
    " API from your browser and are prompted for a username. You can obtain an API key from"
    " https://platform.openai.com/account/api-keys."
)


def error(message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


# --- type and value errors: OpenAI's 400, never a 500 --------------------------------------------------------------

BAD_BODIES = {
    "content: 5": (
        {"model": "gpt-4", "messages": [{"role": "user", "content": 5}]},
        error(
            "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an"
            " integer instead.", "messages[0].content", "invalid_type",
        ),
    ),
    'n: "abc"': (
        {"model": "gpt-4", "messages": HELLO, "n": "abc"},
        error("Invalid type for 'n': expected an integer, but got a string instead.", "n", "invalid_type"),
    ),
    "n: -3": (
        {"model": "gpt-4", "messages": HELLO, "n": -3},
        error(
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got -3 instead.", "n",
            "integer_below_min_value",
        ),
    ),
    "n: 1.5": (
        {"model": "gpt-4", "messages": HELLO, "n": 1.5},
        error("Invalid type for 'n': expected an integer, but got a decimal number instead.", "n", "invalid_type"),
    ),
    "n: true": (
        {"model": "gpt-4", "messages": HELLO, "n": True},
        error("Invalid type for 'n': expected an integer, but got a boolean instead.", "n", "invalid_type"),
    ),
    "n: 1000000000": (
        {"model": "gpt-4", "messages": HELLO, "n": 10**9},
        error(
            "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 1000000000 instead.", "n",
            "integer_above_max_value",
        ),
    ),
    'tools: "x"': (
        {"model": "gpt-4", "messages": HELLO, "tools": "x"},
        error("Invalid type for 'tools': expected an array of objects, but got a string instead.", "tools", "invalid_type"),
    ),
    'stream_options: "x"': (
        {"model": "gpt-4", "messages": HELLO, "stream": True, "stream_options": "x"},
        error("Invalid type for 'stream_options': expected an object, but got a string instead.", "stream_options",
              "invalid_type"),
    ),
    'stream_options.include_usage: "yes"': (
        {"model": "gpt-4", "messages": HELLO, "stream": True, "stream_options": {"include_usage": "yes"}},
        error("Invalid type for 'stream_options.include_usage': expected a boolean, but got a string instead.",
              "stream_options.include_usage", "invalid_type"),
    ),
    "stream_options without stream": (
        {"model": "gpt-4", "messages": HELLO, "stream_options": {"include_usage": True}},
        error("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"),
    ),
    "a text part without text": (
        {"model": "gpt-4", "messages": [{"role": "user", "content": [{"type": "text", "text": 7}]}]},
        error("Invalid type for 'messages[0].content[0].text': expected a string, but got an integer instead.",
              "messages[0].content[0].text", "invalid_type"),
    ),
    "tool-call arguments as an object": (
        {"model": "gpt-4", "messages": [{"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}]},
        error("Invalid type for 'messages[0].tool_calls[0].function.arguments': expected a string, but got an"
              " object instead.", "messages[0].tool_calls[0].function.arguments", "invalid_type"),
    ),
    "a message without content": (
        {"model": "gpt-4", "messages": [{"role": "user"}]},
        error("Missing required parameter: 'messages[0].content'.", "messages[0].content", "missing_required_parameter"),
    ),
    "an unknown role": (
        {"model": "gpt-4", "messages": [{"role": "robot", "content": "hi"}]},
        error("Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and"
              " 'developer'.", "messages[0].role", "invalid_value"),
    ),
    "temperature: 3": (
        {"model": "gpt-4", "messages": HELLO, "temperature": 3},
        error("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
              "temperature", "decimal_above_max_value"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_bad_body_gets_openais_400_over_raw_http(fake, server, case):
    body, expected = BAD_BODIES[case]
    assert post_json(server, body) == (400, expected)
    assert [entry.status for entry in fake.requests] == [400]
    assert fake.pending == 0


NOT_AN_OBJECT = error("We could not parse the JSON body of your request. Expected a JSON object.")
WRONG_MODEL = error("Invalid type for 'model': expected a string, but got an integer instead.", "model", "invalid_type")
EVERY_ROUTE = {"/v1/chat/completions": {"messages": HELLO}, "/v1/responses": {"input": "Hello"},
               "/v1/embeddings": {"input": "Hello"}}


@pytest.mark.parametrize("path", list(EVERY_ROUTE))
def test_every_route_refuses_a_body_that_is_no_object_or_names_no_string_model_alike(fake, server, path):
    assert send(server, b"[1, 2]", path=path) == (400, NOT_AN_OBJECT)
    assert send(server, json.dumps({**EVERY_ROUTE[path], "model": 5}).encode(), path=path) == (400, WRONG_MODEL)
    status, missing = send(server, json.dumps(EVERY_ROUTE[path]).encode(), path=path)
    assert status == 400 and "model" in missing["error"]["message"].lower(), missing
    assert [entry.status for entry in fake.requests] == [400, 400, 400]


SDK_CASES = ["content: 5", 'n: "abc"', "n: -3", "n: 1.5", 'tools: "x"', 'stream_options: "x"', "an unknown role"]


@pytest.mark.parametrize("case", SDK_CASES)
def test_a_bad_body_raises_the_sdks_bad_request_error_with_the_fakes_message(fake, server, case):
    body, expected = BAD_BODIES[case]
    with sdk(server) as client, pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(**body)
    assert raised.value.status_code == 400 and raised.value.body == expected["error"]
    assert raised.value.param == expected["error"]["param"] and raised.value.code == expected["error"]["code"]


def test_a_bad_stream_options_answers_before_streaming_instead_of_dropping_the_connection(fake, server):
    with sdk(server) as client, pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4", messages=HELLO, stream=True, stream_options={"include_usage": 1})
    assert raised.value.body == error(
        "Invalid type for 'stream_options.include_usage': expected a boolean, but got an integer instead.",
        "stream_options.include_usage", "invalid_type",
    )["error"]


def test_good_bodies_still_pass(fake, server):
    good = [
        {"model": "gpt-4", "messages": HELLO, "n": 2, "temperature": 0, "stream": False, "tools": [], "seed": None},
        {"model": "gpt-4", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"},
                                                                     {"type": "image_url", "image_url": {"url": "x"}}]}]},
        {"model": "gpt-4", "messages": [{"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "42"}]},
        {"model": "gpt-4", "messages": HELLO, "future_parameter": {"the SDK": "may send what the fake does not know"}},
    ]
    for body in good:
        status, answer = post_json(server, body)
        assert status == 200, answer


# --- HTTP-level faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "-5", "1e3"])
def test_a_content_length_that_is_no_number_of_bytes_gets_400(fake, server, length):
    status, answer = send(server, b'{"model": "gpt-4"}', {**AUTH, "Content-Length": length})
    assert (status, answer) == (400, error(f"Invalid Content-Length header: {length!r} (expected a number of bytes)."))


def test_a_chunked_body_is_read_within_the_cap(server):
    small = FakeOpenAIServer(max_body_bytes=4096).start()
    try:
        body = json.dumps({"model": "gpt-4", "messages": HELLO}).encode()
        with httpx.Client(base_url=small.url, headers=AUTH, timeout=10) as client:
            accepted = client.post("/chat/completions", content=iter([body[:10], body[10:]]))
            refused = client.post("/chat/completions", content=iter([b" " * 3000, b" " * 3000, body]))
        assert accepted.status_code == 200 and accepted.json()["object"] == "chat.completion"
        assert (refused.status_code, refused.json()["error"]["code"]) == (413, "request_too_large")
        status, answer = send(small, b"zz\r\n{}\r\n0\r\n\r\n", {**AUTH, "Transfer-Encoding": "chunked"})
        assert (status, answer) == (400, error("Invalid chunked request body: a chunk size is no hexadecimal number."))
    finally:
        small.stop()


def test_deeply_nested_json_gets_400_not_a_recursion_error(fake, server):
    deep = b'{"model": "gpt-4", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, answer = send(server, deep)
    assert (status, answer) == (
        400,
        error(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP"
            " library correctly. The OpenAI API expects a JSON payload: nested more than 64 levels deep)"
        ),
    )
    status, answer = send(server, b'{"model": "gpt-4", "metadata": ' + b'{"a": ' * 80 + b"1" + b"}" * 81)
    assert status == 400 and "nested more than 64 levels deep" in answer["error"]["message"]


def test_a_missing_authorization_gets_401_raw_and_through_the_sdk(fake, server):
    assert post_json(server, {"model": "gpt-4", "messages": HELLO}, {"Content-Type": "application/json"}) == (
        401, error(NO_KEY_MESSAGE)
    )
    assert send(server, None, {"Authorization": "Bearer "}, "/v1/models", "GET") == (401, error(NO_KEY_MESSAGE))
    with sdk(server) as client, pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(model="gpt-4", messages=HELLO, extra_headers={"Authorization": openai.Omit()})
    assert raised.value.status_code == 401 and raised.value.body == error(NO_KEY_MESSAGE)["error"]
    assert [entry.status for entry in fake.requests] == [401, 401, 401]
    assert send(server, None, {}, "/_fake/health", "GET")[0] == 200, "the control API needs no key"


def test_concurrent_bad_requests_leave_the_fake_serving(fake, server):
    outcomes = []

    def hit(case):
        outcomes.append(post_json(server, BAD_BODIES[case][0])[0])

    threads = [threading.Thread(target=hit, args=(case,)) for case in BAD_BODIES for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes == [400] * len(threads)
    assert post_json(server, {"model": "gpt-4", "messages": HELLO})[0] == 200
