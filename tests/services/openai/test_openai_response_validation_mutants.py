"""Self-tests that kill the mutation run's survivors in the fake's Responses request checks
(``fake/response_validation.py``), called in-process: each refused input names its exact path, message and code."""

from __future__ import annotations

import pytest

from narrative_fixtures.services.openai.fake.response_validation import responses_request_problem
from narrative_fixtures.services.openai.fake.validation import Problem

MODEL = {"model": "gpt-4o"}


def _wrong(path: str, expected: str, got: str) -> Problem:
    return Problem(f"Invalid type for '{path}': expected {expected}, but got {got} instead.", path, "invalid_type")


def _missing(path: str) -> Problem:
    return Problem(f"Missing required parameter: '{path}'.", path, "missing_required_parameter")


def _user(content) -> dict:
    return {"role": "user", "content": content}


REFUSED = {
    "content is a number": ([_user(5)], _wrong("input[0].content", "one of a string or array of objects", "an integer")),
    "item is a string": (["hi"], _wrong("input[0]", "an object", "a string")),
    "a part without type": ([_user([{"type": "input_text", "text": "a"}, {"text": "b"}])],
                            _missing("input[0].content[1].type")),
    "a part's type is a number": ([_user([{"type": 3}])], _wrong("input[0].content[0].type", "a string", "an integer")),
    "input_text without text": ([_user([{"type": "input_text"}])], _missing("input[0].content[0].text")),
    "output_text with a number": ([{"role": "assistant", "content": [{"type": "output_text", "text": 1}]}],
                                  _wrong("input[0].content[0].text", "a string", "an integer")),
    "second message without content": ([_user("ok"), {"role": "user"}], _missing("input[1].content")),
    "a message without role": ([{"content": "x"}], _missing("input[0].role")),
    "a function call without arguments": ([{"type": "function_call", "call_id": "c", "name": "f"}],
                                          _missing("input[0].arguments")),
    "a function call output that is a number": ([{"type": "function_call_output", "call_id": "c", "output": 3}],
                                                _wrong("input[0].output", "one of a string or array", "an integer")),
    "a function call's call_id is a number": ([{"type": "function_call", "call_id": 1, "name": "f", "arguments": "{}"}],
                                              _wrong("input[0].call_id", "a string", "an integer")),
    "a function call's name is a number": ([{"type": "function_call", "call_id": "c", "name": 1, "arguments": "{}"}],
                                           _wrong("input[0].name", "a string", "an integer")),
    "a function call's arguments are an object": ([{"type": "function_call", "call_id": "c", "name": "f",
                                                    "arguments": {}}], _wrong("input[0].arguments", "a string", "an object")),
    "a function call without call_id": ([{"type": "function_call", "name": "f", "arguments": "{}"}],
                                        _missing("input[0].call_id")),
    "a function call without name": ([{"type": "function_call", "call_id": "c", "arguments": "{}"}],
                                     _missing("input[0].name")),
    "a function call output without call_id": ([{"type": "function_call_output", "output": "42"}],
                                               _missing("input[0].call_id")),
    "a function call output's call_id is a number": ([{"type": "function_call_output", "call_id": 1, "output": "42"}],
                                                     _wrong("input[0].call_id", "a string", "an integer")),
    "a function call output without output": ([{"type": "function_call_output", "call_id": "c"}],
                                              _missing("input[0].output")),
    "a function call output of strings": ([{"type": "function_call_output", "call_id": "c", "output": ["42"]}],
                                          _wrong("input[0].output", "one of a string or array", "an array")),
}


@pytest.mark.parametrize("given, expected", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_input_names_its_path_message_and_code(given, expected):
    assert responses_request_problem({**MODEL, "input": given}) == expected


def test_an_unknown_role_is_refused_naming_the_supported_ones_and_at_most_80_characters_of_it():
    role = "robot" + "x" * 100
    problem = responses_request_problem({**MODEL, "input": [{"role": role, "content": "x"}]})
    supported = "'user', 'assistant', 'system', 'developer'"
    assert problem == Problem(f"Invalid value: '{role[:80]}'. Supported values are: {supported}.", "input[0].role",
                              "invalid_value")


ACCEPTED = {
    "an image part (no text needed)": [_user([{"type": "input_image", "image_url": "https://example.com/a.png"}])],
    "a function call": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}],
    "a function call output as an array": [{"type": "function_call_output", "call_id": "c", "output": [{"type": "x"}]}],
    "an item of another type": [{"type": "reasoning", "summary": []}],
    "text parts": [_user([{"type": "input_text", "text": "a"}]), {"role": "assistant", "content": "b"}],
}


@pytest.mark.parametrize("given", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_a_valid_input_is_accepted(given):
    assert responses_request_problem({**MODEL, "input": given}) is None


def test_an_input_that_is_neither_text_nor_a_list_is_refused_naming_both():
    assert responses_request_problem({**MODEL, "input": 5}) == _wrong(
        "input", "one of a string or array of objects", "an integer")
