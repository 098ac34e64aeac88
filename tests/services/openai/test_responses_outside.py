"""Checked as an outside team would: a backend that calls the Responses API through the real SDK, tested with the
plugin's own fixtures in a project of its own (nothing of this repository's test helpers)."""

from __future__ import annotations

APP = '''
"""A backend's AI service written against the Responses API."""
import json

from pydantic import BaseModel


class Summary(BaseModel):
    rows: int
    columns: list[str]


async def summarise(client, dataset: str) -> str:
    response = await client.responses.create(model="gpt-4o-mini", instructions="You summarise datasets.", input=dataset)
    return response.output_text


async def structured_summary(client, dataset: str) -> Summary:
    response = await client.responses.parse(model="gpt-4o-mini", input=dataset, text_format=Summary)
    return response.output_parsed


TOOLS = [{"type": "function", "name": "row_count", "strict": True,
          "parameters": {"type": "object", "properties": {"dataset_id": {"type": "string"}},
                         "required": ["dataset_id"], "additionalProperties": False}}]


def answer_with_tools(client, question: str, row_count) -> str:
    first = client.responses.create(model="gpt-4o-mini", input=question, tools=TOOLS)
    outputs = [{"type": "function_call_output", "call_id": item.call_id,
                "output": json.dumps(row_count(**json.loads(item.arguments)))}
               for item in first.output if item.type == "function_call"]
    return client.responses.create(model="gpt-4o-mini", previous_response_id=first.id, input=outputs,
                                   tools=TOOLS).output_text
'''

TESTS = '''
import pytest

import app


@pytest.mark.asyncio
async def test_summary(openai_server, openai_client):
    openai_server.reply("5 rows, 3 columns.")
    assert await app.summarise(openai_client, "id,value,category") == "5 rows, 3 columns."
    assert openai_server.responses_requests[-1].body["instructions"] == "You summarise datasets."


@pytest.mark.asyncio
async def test_structured_summary_out_of_the_box_and_scripted(openai_server, openai_client):
    assert isinstance(await app.structured_summary(openai_client, "id,value"), app.Summary)
    openai_server.reply_json({"rows": 5, "columns": ["id", "value"]})
    assert (await app.structured_summary(openai_client, "id,value")).rows == 5


def test_tool_round_trip_after_a_rate_limit(openai_server, openai_sync_client):
    openai_server.fail(429, retry_after=0.01).reply_with_tool_call("row_count", {"dataset_id": "ds-42"})
    openai_server.reply("ds-42 has 5 rows.")
    seen = []
    answer = app.answer_with_tools(openai_sync_client, "How many rows?", lambda dataset_id: seen.append(dataset_id) or 5)
    assert answer == "ds-42 has 5 rows." and seen == ["ds-42"]
    assert openai_server.calls("responses") == 3
    assert openai_server.responses_requests[-1].body["input"][0]["output"] == "5"
'''


def test_a_backend_on_the_responses_api_passes_against_the_embedded_fake(project):
    project.makepyfile(app=APP, test_app=TESTS)
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=3)
