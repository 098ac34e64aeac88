"""Self-tests that kill the mutation run's survivors in the fake's request rules (``fake/validation.py``), called
in-process: the type and bound rules name the path, what was expected and what came, chat content parts and
messages refused by path, a json_schema response format's fields checked."""

from __future__ import annotations

import json

import pytest

from narrative_fixtures.services.openai.fake.validation import (
    Problem,
    any_object,
    chat_request_problem,
    decimal,
    fields,
    integer,
    kind_of,
    nested_too_deeply,
    one_of,
    string,
)


def _wrong(path: str, expected: str, got: str) -> Problem:
    return Problem(f"Invalid type for '{path}': expected {expected}, but got {got} instead.", path, "invalid_type")


def test_null_is_named_null():
    assert kind_of(None) == "null"
    assert any_object(None, "metadata") == _wrong("metadata", "an object", "null")
    assert any_object({}, "metadata") is None


@pytest.mark.parametrize("value, got", [(True, "a boolean"), (1.5, "a decimal number"), ("3", "a string")])
def test_an_integer_rule_refuses_every_other_type_by_path(value, got):
    assert integer(1, 5)(value, "n") == _wrong("n", "an integer", got)


@pytest.mark.parametrize("value, got", [(True, "a boolean"), ("0.5", "a string"), (None, "null")])
def test_a_decimal_rule_refuses_every_other_type_by_path(value, got):
    assert decimal(0, 2)(value, "temperature") == _wrong("temperature", "a decimal", got)


def test_bounds_are_inclusive_and_named_with_the_kind_and_the_value():
    assert integer(1, 5)(5, "n") is None and integer(1, 5)(1, "n") is None and decimal(0, 2)(2, "t") is None
    assert integer(1, 5)(6, "n") == Problem(
        "Invalid 'n': integer above maximum value. Expected a value <= 5, but got 6 instead.", "n",
        "integer_above_max_value")
    assert integer(1, 5)(0, "n") == Problem(
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.", "n",
        "integer_below_min_value")
    assert decimal(0, 2)(2.5, "temperature") == Problem(
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
        "temperature", "decimal_above_max_value")
    assert decimal(0, 2)(-0.5, "temperature").code == "decimal_below_min_value"
    assert integer()(10**9, "n") is None and decimal()(-1e9, "t") is None


def test_a_choice_checks_each_rule_at_the_path_given():
    seen = []

    def rule(value, path):
        seen.append(path)
        return Problem("no")

    assert one_of("one of these", rule, string)("x", "tool_choice") is None and seen == ["tool_choice"]


def _chat(**body) -> Problem | None:
    return chat_request_problem({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **body})


def test_chat_content_parts_and_messages_are_refused_by_path():
    parts = lambda *given: [{"role": "user", "content": list(given)}]  # noqa: E731
    assert _chat(messages=parts({"text": "a"})) == Problem(
        "Missing required parameter: 'messages[0].content[0].type'.", "messages[0].content[0].type",
        "missing_required_parameter")
    assert _chat(messages=parts({"type": 1})) == _wrong("messages[0].content[0].type", "a string", "an integer")
    assert _chat(messages=parts({"type": "text"})).param == "messages[0].content[0].text"
    assert _chat(messages=parts({"type": "image_url", "image_url": {"url": "x"}})) is None
    assert _chat(messages=["hi"]) == _wrong("messages[0]", "an object", "a string")


def test_a_json_schema_response_format_names_its_schema_with_the_right_types():
    def asked(**spec) -> Problem | None:
        return _chat(response_format={"type": "json_schema", "json_schema": spec})

    assert _chat(response_format={}).param == "response_format.type"
    assert _chat(response_format={"type": 1}) == _wrong("response_format.type", "a string", "an integer")
    assert asked(name=1) == _wrong("response_format.json_schema.name", "a string", "an integer")
    assert asked(name="n", schema=[]) == _wrong("response_format.json_schema.schema", "an object", "an array")
    assert asked(name="n", strict="yes") == _wrong("response_format.json_schema.strict", "a boolean", "a string")
    assert asked(name="n", schema={"type": "object"}, strict=True) is None


def test_a_message_s_role_is_required_and_an_unknown_one_shown_up_to_80_characters():
    assert _chat(messages=[{"content": "hi"}]) == Problem(
        "Missing required parameter: 'messages[0].role'.", "messages[0].role", "missing_required_parameter")
    long_role = "r" * 100
    assert _chat(messages=[{"role": long_role, "content": "hi"}]).message.startswith(f"Invalid value: '{'r' * 80}'. ")
    listed = list(range(40))
    refused = _chat(messages=[{"role": listed, "content": "hi"}])
    assert refused.message.startswith(f"Invalid value: {json.dumps(listed)[:80]}. Supported values are: ")
    assert _chat(messages=[{"role": 7, "content": "hi"}]).message.startswith("Invalid value: 7. ")


def test_an_assistant_message_calling_a_function_the_legacy_way_may_have_no_content():
    called = {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}
    assert _chat(messages=[{"role": "user", "content": "hi"}, called]) is None
    assert _chat(messages=[{"role": "assistant", "content": None}]).param == "messages[0].content"


CHAT_REFUSED = {
    "no model": ({"messages": []}, Problem("you must provide a model parameter", "model")),
    "no messages": ({"model": "gpt-4o"}, Problem(
        "Missing required parameter: 'messages'.", "messages", "missing_required_parameter")),
    "no message": ({"model": "gpt-4o", "messages": []}, Problem(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "messages", "empty_array")),
    "messages as text": ({"model": "gpt-4o", "messages": "hi"}, _wrong("messages", "an array of objects", "a string")),
}


@pytest.mark.parametrize("body, expected", CHAT_REFUSED.values(), ids=CHAT_REFUSED.keys())
def test_a_chat_request_without_model_or_messages_is_refused_as_openai_does(body, expected):
    assert chat_request_problem(body) == expected


def test_tool_calls_that_are_not_a_list_and_a_response_format_that_is_not_an_object_are_refused_by_type():
    called = {"role": "assistant", "content": None, "tool_calls": "count_rows"}
    assert _chat(messages=[called]) == _wrong("messages[0].tool_calls", "an array", "a string")
    assert _chat(response_format="json") == _wrong("response_format", "an object", "a string")


def test_nesting_is_counted_from_one_at_the_top_through_lists_and_objects():
    def nested(levels: int):
        value: object = 1
        for level in range(levels):
            value = [value] if level % 2 else {"a": value}
        return value

    assert not nested_too_deeply(nested(3), 3) and nested_too_deeply(nested(4), 3)
    assert not nested_too_deeply(nested(4), 4) and nested_too_deeply(nested(5), 4)
    assert not nested_too_deeply(5, 0) and nested_too_deeply([], 0)


def test_a_missing_top_level_field_is_named_alone_and_an_empty_model_counts_as_none():
    assert fields({}, ("model",))({}, "") == Problem(
        "Missing required parameter: 'model'.", "model", "missing_required_parameter")
    assert _chat(model="") == Problem("you must provide a model parameter", "model")
