"""Steps of the OpenAI feature for the Responses API, structured output and rate limits: thin, they drive the real
OpenAI SDK against the plugin's fake."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.openai.fake import DEFAULT_CONTENT
from steps.openai_support import MODEL, attempt, openai

DATASET_STATS = {"rows": 5, "columns": 3}
SDK_RETRY_LOGGER = "openai._base_client"
SDK_RETRY_WAIT = re.compile(r"Retrying request in ([\d.]+) seconds")


class Recommendation(BaseModel):
    """The backend's own model of a model recommendation."""

    model: Literal["random_forest", "linear_regression", "gradient_boosting"]
    task: Literal["regression", "classification"]
    reasons: list[str]


TOOL = {"type": "function", "name": "get_dataset_stats", "strict": True,
        "parameters": {"type": "object", "properties": {"dataset_id": {"type": "string"},
                                                        "columns": {"type": "array", "items": {"type": "string"}}},
                       "required": ["dataset_id", "columns"], "additionalProperties": False}}


@dataclass
class Answered:
    """What a Responses step did: the final Response (or the SDK's exception), earlier ones, streamed events."""

    response: Any = None
    error: Exception | None = None
    earlier: list = field(default_factory=list)
    events: list = field(default_factory=list)
    tool_inputs: list = field(default_factory=list)
    parsed: Any = None


# --- asking -----------------------------------------------------------------------------------------------------


@when(parsers.parse('the backend asks the Responses API "{question}" with the instruction "{instruction}"'),
      target_fixture="answered")
def ask_with_instruction(openai_client, run_async, question, instruction):
    response = run_async(openai_client.responses.create(model=MODEL, instructions=instruction, input=question))
    return Answered(response)


@when(parsers.re(r'the backend asks the Responses API "(?P<question>[^"]*)"'), target_fixture="answered")
def ask_responses(openai_client, run_async, question):
    return Answered(*run_async(attempt(openai_client.responses.create(model=MODEL, input=question))))


@when(parsers.parse('the backend asks the Responses API "{question}" offering the tool "{tool}" and sends back '
                    "what the tool returned"), target_fixture="answered")
def ask_with_tool_round_trip(openai_client, run_async, question, tool):
    tools = [{**TOOL, "name": tool}]
    first = run_async(openai_client.responses.create(model=MODEL, input=question, tools=tools))
    calls = [item for item in first.output if item.type == "function_call"]
    outputs = [{"type": "function_call_output", "call_id": call.call_id, "output": json.dumps(DATASET_STATS)}
               for call in calls]
    final = run_async(openai_client.responses.create(model=MODEL, previous_response_id=first.id, input=outputs,
                                                     tools=tools))
    return Answered(final, earlier=[first], tool_inputs=[json.loads(call.arguments) for call in calls])


@when(parsers.parse('the backend streams the Responses API\'s answer to "{question}"'), target_fixture="answered")
def stream_responses(openai_client, run_async, question):
    async def collect():
        stream = await openai_client.responses.create(model=MODEL, input=question, stream=True)
        return [event async for event in stream]

    events = run_async(collect())
    return Answered(events[-1].response, events=events)


@when(parsers.parse("the backend asks the {api} for a recommendation parsed into its own model"),
      target_fixture="answered")
def ask_structured(openai_client, run_async, api):
    question = "Which model fits the numeric target 'value'?"
    if api == "chat completions API":
        call = openai_client.chat.completions.parse(model=MODEL, messages=[{"role": "user", "content": question}],
                                                    response_format=Recommendation)
        completion, error = run_async(attempt(call))
        return Answered(completion, error, parsed=completion and completion.choices[0].message.parsed)
    assert api == "Responses API", api
    call = openai_client.responses.parse(model=MODEL, input=question, text_format=Recommendation)
    response, error = run_async(attempt(call))
    return Answered(response, error, parsed=response and response.output_parsed)


# --- scripting --------------------------------------------------------------------------------------------------


@given(parsers.parse('the fake API answers with the recommendation "{model}" for a "{task}" task as JSON'))
def fake_answers_json(fake, model, task):
    fake.reply_json({"model": model, "task": task, "reasons": ["numeric target"]})


@given(parsers.parse("the fake API limits the rate of the next request and asks to retry after {ms:d} milliseconds"))
def rate_limited(fake, caplog, ms):
    fake.fail(429, retry_after=ms / 1000)
    caplog.set_level(logging.INFO, logger=SDK_RETRY_LOGGER)  # the SDK logs the wait it chose before each retry


# --- checking ---------------------------------------------------------------------------------------------------


@then(parsers.parse('the Responses API answers "{text}" from model "{model}"'))
def answers_from_model(answered, text, model):
    assert answered.error is None, f"the call failed: {answered.error!r}"
    assert answered.response.output_text == text and answered.response.model == model
    assert answered.response.status == "completed"


@then(parsers.re(r'the Responses API answers "(?P<text>[^"]*)"'))
def answers(answered, text):
    assert answered.error is None, f"the call failed: {answered.error!r}"
    assert answered.response.output_text == text


@then("the Responses API answers the fake API's standard answer")
def answers_standard(answered):
    answers(answered, DEFAULT_CONTENT)


@then(parsers.parse("the usage reports {prompt:d} input tokens, {completion:d} output tokens and {total:d} in total"))
def responses_usage(answered, prompt, completion, total):
    usage = answered.response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (prompt, completion, total)


@then("the answer can be fetched again by its id")
def fetched_again(openai_client, run_async, answered):
    again = run_async(openai_client.responses.retrieve(answered.response.id))
    assert again.id == answered.response.id and again.output_text == answered.response.output_text


@then(parsers.parse('the tool was called for the dataset "{dataset}" and the fake API received its result, '
                    "chained to its first answer"))
def tool_round_trip(fake, answered, dataset):
    assert [arguments["dataset_id"] for arguments in answered.tool_inputs] == [dataset]
    [first] = answered.earlier
    last = fake.responses_requests[-1].body
    assert last["previous_response_id"] == first.id
    assert [item["call_id"] for item in last["input"]] == [first.output[0].call_id]
    assert json.loads(last["input"][0]["output"]) == DATASET_STATS


@then(parsers.parse('the events run from "{first}" through the text deltas to "{last}"'))
def event_sequence(answered, first, last):
    kinds = [event.type for event in answered.events]
    assert kinds[0] == first and kinds[-1] == last, kinds
    assert "response.output_text.delta" in kinds and kinds.index("response.output_text.done") > kinds.index(
        "response.output_text.delta")
    assert [event.sequence_number for event in answered.events] == list(range(len(kinds)))


@then(parsers.parse('the text deltas reassemble into "{text}"'))
def deltas_reassemble(answered, text):
    deltas = [event.delta for event in answered.events if event.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == text == answered.response.output_text


@then("the recommendation is an instance of the backend's model")
def parsed_instance(answered):
    assert answered.error is None, f"the call failed: {answered.error!r}"
    assert isinstance(answered.parsed, Recommendation), answered.parsed


@then(parsers.parse('the parsed recommendation names the model "{model}" for a "{task}" task'))
def parsed_values(answered, model, task):
    parsed_instance(answered)
    assert (answered.parsed.model, answered.parsed.task) == (model, task)


@then("the fake API was asked for an answer following the model's JSON schema")
def asked_with_schema(fake):
    body = fake.last_request.body
    requested = body.get("response_format") or body.get("text", {}).get("format")
    assert requested["type"] == "json_schema"
    schema = requested.get("json_schema", requested)["schema"]
    assert set(schema["properties"]) == set(Recommendation.model_fields)


@then(parsers.parse('the call fails at once, saying the scripted answer does not match the schema "{name}" at "{path}"'))
def fails_on_mismatch(fake, answered, name, path):
    assert isinstance(answered.error, openai.InternalServerError), answered.error
    message = answered.error.body["message"]
    assert f"does not match the JSON schema '{name}'" in message and f"at ['{path}']" in message, message
    assert fake.calls("responses") == 1, "the SDK did not retry"
    assert [problem for problem in fake.take_problems() if name in problem], "the fixture would fail the test"


@then(parsers.parse("the SDK waited the {ms:d} milliseconds asked for before asking again, not its own back-off of "
                    "half a second"))
def waited_as_asked(caplog, ms):
    waits = [float(found[1]) for record in caplog.records if record.name == SDK_RETRY_LOGGER
             and (found := SDK_RETRY_WAIT.match(record.getMessage()))]
    assert waits == [ms / 1000], f"the SDK's waits before retrying (its own back-off starts at 0.5 s): {waits}"


@then(parsers.parse("the SDK asked again after the rate limit: {count:d} requests, answered {first:d} then {last:d}"))
def retried_after_rate_limit(fake, count, first, last):
    entries = fake.responses_requests
    assert [entry.status for entry in entries] == [first, last] and fake.calls("responses") == count
    assert [entry.headers.get("x-stainless-retry-count") for entry in entries] == ["0", "1"]
    assert entries[0].body == entries[1].body, "the SDK retried the same request"
