"""Issue 14's routes through the ``AsyncOpenAI`` client, streamed and not: every answer, event and page parses
strictly into the SDK's own types (``_strict_response_validation``) and leaves no field the SDK does not know
(``strict_models.no_leftovers``)."""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import BaseModel

from tests.services.openai.strict_models import KEY, no_leftovers

pytestmark = pytest.mark.asyncio
TOOLS = [{"type": "function", "name": "get_dataset_stats", "strict": True,
          "parameters": {"type": "object", "properties": {"dataset_id": {"type": "string"}},
                         "required": ["dataset_id"], "additionalProperties": False}}]
SMALL = "text-embedding-3-small"


class Summary(BaseModel):
    rows: int
    columns: list[str]


def async_client(server) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url, api_key=KEY, _strict_response_validation=True, max_retries=0)


def exact(*parsed: BaseModel) -> None:
    """Each SDK object, and every object inside it, holds only fields the SDK knows."""
    for each in parsed:
        no_leftovers(each)


async def test_a_text_answer_and_its_afterlife(fake, server):
    fake.reply("The dataset has 5 rows.")
    async with async_client(server) as client:
        served = await client.responses.create(model="gpt-4o", input="Hello", instructions="Be brief.")
        again = await client.responses.retrieve(served.id)
        items = [item async for item in client.responses.input_items.list(served.id, limit=1)]
        await client.responses.delete(served.id)
        with pytest.raises(openai.NotFoundError):
            await client.responses.retrieve(served.id)
    exact(served, again, *items)
    assert served.output_text == again.output_text == "The dataset has 5 rows." and served.status == "completed"
    assert [item.role for item in items] == ["user"] and items[0].content[0].text == "Hello"
    assert [(entry.method, entry.status) for entry in fake.requests][-2:] == [("DELETE", 200), ("GET", 404)]


async def test_a_tool_call_round_trip(fake, server):
    fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-42"}).reply("ds-42 has 5 rows.")
    async with async_client(server) as client:
        first = await client.responses.create(model="gpt-4o", input="ds-42?", tools=TOOLS)
        [call] = first.output
        output = {"type": "function_call_output", "call_id": call.call_id, "output": '{"rows": 5}'}
        final = await client.responses.create(model="gpt-4o", previous_response_id=first.id, input=[output], tools=TOOLS)
    exact(first, final)
    assert call.type == "function_call" and json.loads(call.arguments) == {"dataset_id": "ds-42"}
    assert final.output_text == "ds-42 has 5 rows." and final.previous_response_id == first.id


@pytest.mark.parametrize("scripted", ["text", "tool call"])
async def test_a_stream_is_the_sdks_typed_events(fake, server, scripted):
    if scripted == "text":
        fake.reply("one two three")
    else:
        fake.reply_with_tool_call("get_dataset_stats", {"dataset_id": "ds-42"})
    async with async_client(server) as client:
        stream = await client.responses.create(model="gpt-4o", input="Hello", tools=TOOLS, stream=True)
        events = [event async for event in stream]
    exact(*events)
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    final = events[-1].response
    if scripted == "text":
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "one two three"
        assert final.output_text == "one two three"
    else:
        pieces = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
        assert json.loads(pieces) == {"dataset_id": "ds-42"} and final.output[0].arguments == pieces


async def test_parse_gets_a_valid_instance_streamed_and_not(fake, server):
    async with async_client(server) as client:
        parsed = await client.responses.parse(model="gpt-4o", input="Summarise", text_format=Summary)
        async with client.responses.stream(model="gpt-4o", input="Summarise", text_format=Summary) as stream:
            streamed = await stream.get_final_response()
    exact(parsed, streamed)
    assert isinstance(parsed.output_parsed, Summary) and isinstance(streamed.output_parsed, Summary)
    assert fake.problems == []


async def test_embeddings_float_base64_and_shortened(fake, server):
    async with async_client(server) as client:
        floats = await client.embeddings.create(model=SMALL, input=["a", "b"], encoding_format="float")
        short = await client.embeddings.create(model=SMALL, input="a", dimensions=8, encoding_format="float")
    async with openai.AsyncOpenAI(base_url=server.url, api_key=KEY, max_retries=0) as client:  # base64 by default
        decoded = await client.embeddings.create(model=SMALL, input=["a", "b"])
    exact(floats, short)
    assert [len(item.embedding) for item in floats.data] == [1536, 1536] and len(short.data[0].embedding) == 8
    assert [item.embedding for item in decoded.data] == [item.embedding for item in floats.data]
    assert fake.last_request.body["encoding_format"] == "base64" and fake.calls("embeddings") == 3
