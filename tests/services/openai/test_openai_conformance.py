"""The fake OpenAI API against the SDK's own models: every answer parses, strictly, with nothing left over.

Each response is checked three ways: the raw JSON validates with ``strict=True`` into the SDK's typed model and
leaves no unknown field (``model_extra``) anywhere in the tree; it serialises back without pydantic warnings; and
the SDK itself parses it with ``_strict_response_validation=True``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import openai
import pytest
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from narrative_fixtures.services.openai.fake import (
    DEFAULT_CONTENT,
    ChatReply,
    ErrorReply,
    FakeOpenAI,
    FakeOpenAIServer,
    RemoteBackend,
    SlowReply,
    ToolCall,
    prompt_tokens,
    tokens,
)
from narrative_fixtures.services.openai.fake.models import reply_from_dict, reply_to_dict
from tests.services.openai.strict_models import KEY, conforms, sse_events, strict_client

HELLO = [{"role": "user", "content": "Hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_dataset_stats",
            "parameters": {"type": "object", "properties": {"dataset_id": {"type": "string"}}},
        },
    }
]


# --- raw protocol, validated against the SDK's models ----------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_plain_completion_conforms(fake, http, n):
    fake.reply("The dataset has 5 rows.")
    response = http.post("/chat/completions", json={"model": "gpt-4", "messages": HELLO, "n": n})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    parsed = conforms(ChatCompletion, response.json())
    assert [choice.index for choice in parsed.choices] == list(range(n))
    assert parsed.usage.completion_tokens == n * tokens("The dataset has 5 rows.")
    assert response.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("include_usage", [True, False])
def test_streamed_completion_conforms(fake, http, include_usage):
    fake.reply("one two three")
    body = {"model": "gpt-4", "messages": HELLO, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    response = http.post("/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = [conforms(ChatCompletionChunk, json.loads(event)) for event in sse_events(response.text)[:-1]]
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "one two three"
    assert chunks[0].choices[0].delta.role == "assistant"
    finishing = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert [chunk.choices[0].finish_reason for chunk in finishing] == ["stop"]
    if include_usage:
        assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == prompt_tokens(HELLO) + tokens("one two three")
        assert all(chunk.usage is None for chunk in chunks[:-1])
    else:
        assert all(chunk.usage is None for chunk in chunks)


def test_tool_call_conforms_plain_and_streamed(fake, http):
    fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-42"}).reply_with_tool_call(
        "get_dataset_stats", {"dataset_id": "ds-42"}
    )
    body = {"model": "gpt-4", "messages": HELLO, "tools": TOOLS}
    plain = conforms(ChatCompletion, http.post("/chat/completions", json=body).json())
    [call] = plain.choices[0].message.tool_calls
    assert plain.choices[0].finish_reason == "tool_calls" and plain.choices[0].message.content is None
    assert json.loads(call.function.arguments) == {"dataset_id": "ds-42"}
    assert plain.usage.prompt_tokens == prompt_tokens(HELLO, TOOLS) > prompt_tokens(HELLO)
    streamed = http.post("/chat/completions", json={**body, "stream": True})
    chunks = [conforms(ChatCompletionChunk, json.loads(event)) for event in sse_events(streamed.text)[:-1]]
    pieces = [chunk.choices[0].delta.tool_calls[0].function.arguments for chunk in chunks if chunk.choices[0].delta.tool_calls]
    assert json.loads("".join(pieces)) == {"dataset_id": "ds-42"} and len(pieces) > 2
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_models_conform(http):
    listing = http.get("/models").json()
    assert listing["object"] == "list"
    models = [conforms(Model, entry) for entry in listing["data"]]
    assert {"gpt-4o", "gpt-4", "gpt-3.5-turbo"} <= {model.id for model in models}
    assert conforms(Model, http.get("/models/gpt-4").json()).id == "gpt-4"
    missing = http.get("/models/gpt-404")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_bad_requests_get_openais_errors(fake, http):
    assert http.post("/chat/completions", json={"messages": HELLO}).json()["error"]["param"] == "model"
    assert http.post("/chat/completions", json={"model": "gpt-4", "messages": []}).json()["error"]["param"] == "messages"
    broken = http.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "could not parse the JSON body" in broken.json()["error"]["message"]
    unknown = http.post("/nothing/here", json={})
    assert unknown.status_code == 404 and "/v1/nothing/here" in unknown.json()["error"]["message"]
    upload = http.post("/files", content=b"--boundary", headers={"content-type": "multipart/form-data"})
    assert upload.status_code == 404, "an unserved route is unserved whatever its body"
    assert [entry.status for entry in fake.requests] == [400, 400, 400, 404, 404]  # recorded, with the answer
    assert fake.pending == 0, "a rejected request consumes no scripted reply"


# --- through the SDK, with its strict response validation ------------------------------------------------------


def test_the_sdk_parses_every_kind_of_answer_strictly(fake, server):
    fake.reply("plain").reply("streamed text").reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-1"})
    fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-2"})
    with strict_client(server) as client:
        assert client.chat.completions.create(model="gpt-4", messages=HELLO).choices[0].message.content == "plain"
        stream = client.chat.completions.create(
            model="gpt-4", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "streamed text"
        called = client.chat.completions.create(model="gpt-4", messages=HELLO, tools=TOOLS)
        assert called.choices[0].message.tool_calls[0].function.name == "get_dataset_stats"
        with client.chat.completions.stream(model="gpt-4", messages=HELLO, tools=TOOLS) as events:
            final = events.get_final_completion()  # the SDK's own accumulator of streamed tool-call deltas
        assert json.loads(final.choices[0].message.tool_calls[0].function.arguments) == {"dataset_id": "ds-2"}


def test_the_async_client_parses_strictly_too(fake, server):
    async def run():
        async with openai.AsyncOpenAI(base_url=server.url, api_key=KEY, _strict_response_validation=True) as client:
            stream = await client.chat.completions.create(model="gpt-4", messages=HELLO, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == DEFAULT_CONTENT


def test_retries_are_recorded_with_the_sdks_retry_count(fake, server):
    fake.fail(429, retry_after=0.01).fail(500, retry_after=0.01)
    with strict_client(server) as client:
        assert client.chat.completions.create(model="gpt-4", messages=HELLO).choices[0].message.content == DEFAULT_CONTENT
    assert [(e.status, e.headers["x-stainless-retry-count"]) for e in fake.requests] == [(429, "0"), (500, "1"), (200, "2")]


def test_a_slow_answer_trips_the_client_timeout(fake, server):
    fake.slow(5, then="too late")
    with strict_client(server, max_retries=0, timeout=0.2) as client, pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4", messages=HELLO)
    fake.slow(0.05, then="in time")
    with strict_client(server, max_retries=0, timeout=2) as client:
        assert client.chat.completions.create(model="gpt-4", messages=HELLO).choices[0].message.content == "in time"


# --- the record, the script, the token rule ---------------------------------------------------------------------


def test_the_record_masks_every_credential(fake, server):
    with strict_client(server, default_headers={"api-key": "azure-secret", "x-trace": "kept"}) as client:
        client.chat.completions.create(model="gpt-4", messages=HELLO)
    [entry] = fake.requests
    assert entry.headers["authorization"] == "Bearer ***" and entry.headers["api-key"] == "***"
    assert entry.headers["x-trace"] == "kept" and entry.body["messages"] == HELLO and entry.path == "/v1/chat/completions"
    assert KEY not in json.dumps(entry.to_dict()) and "azure-secret" not in json.dumps(entry.to_dict())


def test_the_token_rule_as_documented():
    assert tokens("") == 0 and tokens("Hell") == 1 and tokens("Hello") == 2
    assert prompt_tokens(HELLO) == 8  # the docstring's example: 3 + (3 + 2)
    parts = [{"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "image_url", "image_url": {}}]}]
    assert prompt_tokens(parts) == 8
    call = {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "abcd", "arguments": "{}"}}]}
    assert prompt_tokens([call]) == 3 + 3 + tokens("abcd{}")
    assert prompt_tokens(HELLO, TOOLS) == 8 + tokens(json.dumps(TOOLS, separators=(",", ":"), sort_keys=True))


def test_an_explicit_usage_is_served_as_given(fake, server):
    fake.reply("canned", usage={"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150})
    with strict_client(server) as client:
        usage = client.chat.completions.create(model="gpt-4", messages=HELLO).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 30, 150)


@pytest.mark.parametrize(
    "reply",
    [
        ChatReply("text", model="gpt-4o", words_per_chunk=3),
        ChatReply(None, tool_calls=(ToolCall("f", {"a": 1}, id="call_1"),)),
        ErrorReply(429, "slow down", retry_after=0.5),
        SlowReply(0.1, then=ErrorReply(500)),
    ],
)
def test_replies_travel_through_the_control_api_unchanged(reply):
    assert reply_from_dict(json.loads(json.dumps(reply_to_dict(reply)))) == reply


def test_the_control_api_scripts_a_fake_in_another_process_the_same_way(fake, server, http):
    remote = FakeOpenAI(server.url, RemoteBackend(server.root_url), KEY)
    remote.reply("over HTTP").fail(401).set_default("remote default")
    assert remote.pending == 2
    with strict_client(server, max_retries=0) as client:
        assert client.chat.completions.create(model="gpt-4", messages=HELLO).choices[0].message.content == "over HTTP"
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4", messages=HELLO)
        assert client.chat.completions.create(model="gpt-4", messages=HELLO).choices[0].message.content == "remote default"
    assert [entry.status for entry in remote.requests] == [200, 401, 200]
    assert http.get(server.root_url + "/_fake/health").json()["fake"] == "narrative-fake-openai"
    remote.reset()
    assert fake.requests == [] and fake.pending == 0


def test_a_reset_abandons_a_slow_answer_at_once(fake, server):
    fake.slow(30)
    outcome = {}

    def call():
        try:
            with httpx.Client(timeout=10, headers={"authorization": f"Bearer {KEY}"}) as client:
                client.post(server.url + "/chat/completions", json={"model": "gpt-4", "messages": HELLO})
        except httpx.HTTPError as error:
            outcome["error"] = type(error).__name__

    caller = threading.Thread(target=call)
    caller.start()
    while not fake.requests:
        time.sleep(0.005)
    fake.reset()
    caller.join()
    # closed without an answer: a server that kept the request waiting would give the client's ReadTimeout
    assert outcome["error"] == "RemoteProtocolError", outcome


def test_stopping_closes_idle_connections_and_joins_the_thread():
    fake = FakeOpenAIServer().start()
    with httpx.Client(base_url=fake.url, headers={"authorization": f"Bearer {KEY}"}) as client:  # keep-alive
        assert client.get("/models").status_code == 200
        threads_before = threading.active_count()
        fake.stop()
        time.sleep(0.05)
        assert not fake.alive()
        assert threading.active_count() < threads_before  # the serving and the connection threads are gone
        with pytest.raises(httpx.TransportError):
            client.get("/models")
