"""The fake's Responses API against the SDK's own models: every answer and every streamed event parses strictly
into the SDK's types with nothing left over, through the sync and the async client."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from narrative_fixtures.services.openai.fake import DEFAULT_CONTENT, prompt_tokens, tokens
from tests.services.openai.strict_models import KEY, conforms, strict_client

TOOLS = [{"type": "function", "name": "get_dataset_stats", "strict": True,
          "parameters": {"type": "object", "properties": {"dataset_id": {"type": "string"}},
                         "required": ["dataset_id"], "additionalProperties": False}}]
EVENTS = TypeAdapter(ResponseStreamEvent)


def streamed_events(raw: str) -> list:
    """The server-sent events of a Responses stream, each ``event:`` line matching its data's type."""
    parsed = []
    for block in raw.strip().split("\n\n"):
        event_line, data_line = block.split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}"
        event = EVENTS.validate_python(data, strict=True)
        conforms(type(event), data)
        parsed.append(event)
    return parsed


def test_a_text_answer_conforms(fake, http):
    fake.reply("The dataset has 5 rows.")
    answer = http.post("/responses", json={"model": "gpt-4o", "input": "Hello", "instructions": "Be brief."})
    assert answer.status_code == 200 and answer.headers["x-request-id"].startswith("req_")
    response = conforms(Response, answer.json())
    assert response.output_text == "The dataset has 5 rows." and response.status == "completed"
    assert response.instructions == "Be brief." and response.model == "gpt-4o"
    assert response.usage.input_tokens == prompt_tokens([{"content": "Hello"}, {"content": "Be brief."}])
    assert response.usage.output_tokens == tokens("The dataset has 5 rows.")
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_a_tool_call_conforms_and_its_output_round_trips(fake, http):
    fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-42"}).reply("ds-42 has 5 rows.")
    first = conforms(Response, http.post("/responses", json={"model": "gpt-4o", "input": "ds-42?", "tools": TOOLS}).json())
    [call] = first.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"dataset_id": "ds-42"}
    assert first.tools[0].name == "get_dataset_stats"
    output = {"type": "function_call_output", "call_id": call.call_id, "output": '{"rows": 5}'}
    second = http.post("/responses", json={"model": "gpt-4o", "previous_response_id": first.id, "input": [output]})
    assert conforms(Response, second.json()).output_text == "ds-42 has 5 rows."
    stateless = [{"role": "user", "content": "ds-42?"}, call.model_dump(exclude_none=True), output]
    assert http.post("/responses", json={"model": "gpt-4o", "input": stateless}).status_code == 200
    orphan = http.post("/responses", json={"model": "gpt-4o", "input": [output]})
    assert orphan.status_code == 400 and call.call_id in orphan.json()["error"]["message"]


def test_chaining_counts_the_whole_conversation_and_unknown_ids_are_refused(fake, http):
    first = http.post("/responses", json={"model": "gpt-4o", "input": "Hello"}).json()
    second = http.post("/responses", json={"model": "gpt-4o", "input": "Again", "previous_response_id": first["id"]})
    chained = conforms(Response, second.json())
    history = [{"content": "Hello"}, {"content": DEFAULT_CONTENT}, {"content": "Again"}]
    assert chained.usage.input_tokens == prompt_tokens(history) and chained.previous_response_id == first["id"]
    unknown = http.post("/responses", json={"model": "gpt-4o", "input": "x", "previous_response_id": "resp_nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "previous_response_not_found"
    assert conforms(Response, http.get(f"/responses/{first['id']}").json()).id == first["id"]
    assert http.get("/responses/resp_nope").status_code == 404


@pytest.mark.parametrize("reply", ["one two three", None])
def test_the_stream_is_the_sdks_typed_event_sequence(fake, http, reply):
    if reply is None:
        fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-42"})
    else:
        fake.reply(reply)
    raw = http.post("/responses", json={"model": "gpt-4o", "input": "Hello", "tools": TOOLS, "stream": True})
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = streamed_events(raw.text)
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert [e.type for e in events[:3]] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert events[-1].type == "response.completed" and events[-2].type == "response.output_item.done"
    final = events[-1].response
    if reply is None:
        pieces = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
        assert json.loads("".join(pieces)) == {"dataset_id": "ds-42"} and len(pieces) > 1
        assert final.output[0].arguments == "".join(pieces)
    else:
        deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
        assert deltas == ["one ", "two ", "three"] and final.output_text == reply


def test_the_sdk_parses_every_answer_strictly(fake, server):
    fake.reply("plain").reply("streamed text").reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-1"})
    with strict_client(server) as client:
        assert client.responses.create(model="gpt-4o", input="Hello").output_text == "plain"
        with client.responses.stream(model="gpt-4o", input="Hello") as stream:
            deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
            final = stream.get_final_response()
        assert "".join(deltas) == "streamed text" == final.output_text
        called = client.responses.create(model="gpt-4o", input="Hello", tools=TOOLS)
        assert called.output[0].name == "get_dataset_stats"
        assert client.responses.retrieve(called.id).id == called.id


def test_the_async_client_parses_strictly_too(fake, server):
    fake.reply("async answer").reply("async stream")

    async def run():
        async with openai.AsyncOpenAI(base_url=server.url, api_key=KEY, _strict_response_validation=True) as client:
            plain = await client.responses.create(model="gpt-4o", input="Hello")
            stream = await client.responses.create(model="gpt-4o", input="Hello", stream=True)
            deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
            return plain.output_text, "".join(deltas)

    assert asyncio.run(run()) == ("async answer", "async stream")


def test_replies_addressed_to_an_endpoint_serve_only_it(fake, server):
    fake.reply("for responses", endpoint="responses").reply("for chat", endpoint="chat").reply("for either")
    with strict_client(server) as client:
        chat = client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hi"}])
        assert chat.choices[0].message.content == "for chat"
        assert client.responses.create(model="gpt-4o", input="Hi").output_text == "for responses"
        assert client.responses.create(model="gpt-4o", input="Hi").output_text == "for either"
    assert fake.counts == {"chat": 1, "responses": 2} and fake.calls("responses") == 2 and fake.calls("embeddings") == 0
    assert len(fake.responses_requests) == 2
    with pytest.raises(ValueError, match="endpoint='response'"):
        fake.reply("typo", endpoint="response")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "gpt-4o"}, "input"),
        ({"model": "gpt-4o", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": "gpt-4o", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "gpt-4o", "input": "x", "temperature": 3}, "temperature"),
        ({"model": "gpt-4o", "input": "x", "text": {"format": {"type": "json_schema", "name": "A"}}}, "text.format.schema"),
    ],
)
def test_bad_requests_get_openais_400(fake, server, body, param):
    with strict_client(server, max_retries=0) as client, pytest.raises(openai.BadRequestError) as raised:
        client.post("/responses", cast_to=Response, body=body)
    assert raised.value.body["param"] == param
    assert fake.pending == 0 and fake.requests[-1].status == 400


def test_a_truncated_answer_is_served_incomplete(fake, server):
    fake.reply("The dataset has", finish_reason="length").reply("The dataset has", finish_reason="length")
    with strict_client(server) as client:
        response = client.responses.create(model="gpt-4o", input="Hello", max_output_tokens=16)
        with client.responses.stream(model="gpt-4o", input="Hello") as stream:
            last = [event.type for event in stream][-1]
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "The dataset has" and response.max_output_tokens == 16
    assert last == "response.incomplete"
