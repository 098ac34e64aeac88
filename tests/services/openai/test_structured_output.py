"""Structured output: an unscripted request gets an answer that follows the JSON schema it sent, so the SDK's
``parse()`` works out of the box; a scripted answer that does not follow it fails the test with a clear message."""

from __future__ import annotations

import asyncio
import datetime
from typing import Literal, Optional

import jsonschema
import openai
import pytest
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel

from narrative_fixtures.services.openai.fake.structured import RequestedSchema, mismatch, minimal_instance
from tests.services.openai.strict_models import KEY, strict_client

QUESTION = [{"role": "user", "content": "Which model fits the target 'value'?"}]


class Step(BaseModel):
    name: str
    order: int


class Recommendation(BaseModel):
    model: Literal["random_forest", "linear_regression"]
    task: str
    confidence: float
    steps: list[Step]
    note: Optional[str]
    reviewed_at: datetime.datetime


ANSWER = {"model": "linear_regression", "task": "regression", "confidence": 0.9,
          "steps": [{"name": "fit", "order": 1}], "note": None, "reviewed_at": "2026-01-02T03:04:05Z"}


def test_an_unscripted_chat_parse_gets_a_valid_instance(fake, server):
    with strict_client(server) as client:
        parsed = client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Recommendation)
    recommendation = parsed.choices[0].message.parsed
    assert isinstance(recommendation, Recommendation) and recommendation.model == "random_forest"
    assert recommendation.steps == [] and recommendation.note is None
    assert fake.problems == []


def test_an_unscripted_responses_parse_gets_a_valid_instance(fake, server):
    with strict_client(server) as client:
        parsed = client.responses.parse(model="gpt-4o", input="Recommend a model", text_format=Recommendation)
    assert isinstance(parsed.output_parsed, Recommendation)
    assert parsed.text.format.type == "json_schema" and parsed.text.format.name == "Recommendation"


def test_a_scripted_answer_that_matches_is_parsed_as_scripted(fake, server):
    fake.reply_json(ANSWER, endpoint="chat").reply_json(ANSWER, endpoint="responses")
    with strict_client(server) as client:
        chat = client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Recommendation)
        responses = client.responses.parse(model="gpt-4o", input="Recommend", text_format=Recommendation)
    assert chat.choices[0].message.parsed.steps == [Step(name="fit", order=1)]
    assert responses.output_parsed.model == "linear_regression"


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_a_scripted_answer_that_does_not_match_fails_loudly_without_retries(fake, server, endpoint):
    fake.reply_json({**ANSWER, "model": "svm"})
    with strict_client(server) as client, pytest.raises(openai.InternalServerError) as raised:
        if endpoint == "chat":
            client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Recommendation)
        else:
            client.responses.parse(model="gpt-4o", input="Recommend", text_format=Recommendation)
    message = raised.value.body["message"]
    assert "does not match the JSON schema 'Recommendation'" in message and "at ['model']: 'svm' is not one of" in message
    assert fake.calls(endpoint) == 1, "the SDK must not retry a script problem"
    [problem] = fake.problems
    assert problem in message
    assert fake.take_problems() == [problem] and fake.problems == []


def test_text_that_is_not_json_is_named_as_such(fake, server):
    fake.reply("random forest, I think")
    with strict_client(server) as client, pytest.raises(openai.InternalServerError, match="it is not JSON"):
        client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Recommendation)


def test_the_async_client_parses_too(fake, server):
    async def run():
        async with openai.AsyncOpenAI(base_url=server.url, api_key=KEY, _strict_response_validation=True) as client:
            return await client.responses.parse(model="gpt-4o", input="Recommend", text_format=Recommendation)

    assert isinstance(asyncio.run(run()).output_parsed, Recommendation)


def test_tool_calls_and_plain_requests_are_left_alone(fake, server):
    fake.reply("plain text")
    with strict_client(server) as client:
        assert client.responses.create(model="gpt-4o", input="Hi").output_text == "plain text"
    assert fake.problems == []


SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 3}}, "required": ["a"]},
    {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 2},
    {"enum": ["x", "y"]},
    {"const": 7},
    {"type": ["string", "null"]},
    {"type": "number", "exclusiveMinimum": 1, "maximum": 10},
    {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string", "format": "email"}}, "required": ["a"]}]},
    {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}, "required": ["child"],
     "$defs": {"Node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                        "required": ["next"]}}},
    to_strict_json_schema(Recommendation),
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_the_minimal_instance_is_valid(schema):
    jsonschema.validate(minimal_instance(schema), schema)


def test_a_mismatch_names_the_path_and_the_rule():
    requested = RequestedSchema("Rows", {"type": "object", "properties": {"rows": {"type": "integer"}}, "required": ["rows"]})
    assert mismatch(requested, '{"rows": 5}') is None
    assert mismatch(requested, '{"rows": "five"}').endswith("at ['rows']: 'five' is not of type 'integer'")


@pytest.mark.parametrize(
    ("response_format", "param"),
    [({"type": "json_schema"}, "response_format.json_schema"),
     ({"type": "json_schema", "json_schema": {"schema": {}}}, "response_format.json_schema.name")],
)
def test_a_chat_schema_request_without_its_schema_is_refused(fake, server, response_format, param):
    with strict_client(server, max_retries=0) as client, pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=QUESTION, response_format=response_format)
    assert raised.value.body["param"] == param


def test_a_streamed_chat_parse_gets_a_valid_instance(fake, server):
    with strict_client(server) as client, client.chat.completions.stream(
        model="gpt-4o", messages=QUESTION, response_format=Recommendation
    ) as stream:
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, Recommendation)


def test_a_streamed_responses_parse_gets_the_scripted_instance(fake, server):
    fake.reply_json(ANSWER)
    with strict_client(server) as client, client.responses.stream(
        model="gpt-4o", input="Recommend", text_format=Recommendation
    ) as stream:
        final = stream.get_final_response()
    assert final.output_parsed.steps == [Step(name="fit", order=1)] and final.output_parsed.model == "linear_regression"


SWALLOWING_APP = '''
import openai
import pytest
from pydantic import BaseModel


class Summary(BaseModel):
    rows: int


def summarise(client) -> Summary | None:
    try:  # an app that swallows API errors: the mismatch would never reach the test's assertions
        return client.responses.parse(model="gpt-4o", input="Summarise", text_format=Summary).output_parsed
    except openai.APIError:
        return None


def test_the_app_swallows_a_mismatching_script(openai_server, openai_sync_client):
    openai_server.reply_json({"rows": "five"})
    assert summarise(openai_sync_client) is None


def test_a_test_that_expects_the_mismatch_takes_it(openai_server, openai_sync_client):
    openai_server.reply_json({"rows": "five"})
    assert summarise(openai_sync_client) is None
    assert len(openai_server.take_problems()) == 1


def test_the_next_test_is_clean(openai_server, openai_sync_client):
    assert summarise(openai_sync_client) == Summary(rows=0) and openai_server.problems == []
'''


def test_a_mismatching_script_the_app_swallowed_fails_the_test_at_teardown_in_one_line(project):
    project.makepyfile(SWALLOWING_APP)
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_the_app_swallows_a_mismatching_script*",
                                 "openai: *does not match the JSON schema 'Summary'*"])
    assert "Traceback" not in result.stdout.str()
