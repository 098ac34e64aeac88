"""Self-tests that kill the mutation run's survivors in the fake's embeddings (``fake/embeddings.py``), called
in-process: token ids from 0, the length limits at their exact bounds, each model's own vectors."""

from __future__ import annotations

import json

import pytest

from narrative_fixtures.services.openai.fake.embeddings import (
    INVALID_INPUT,
    MAX_INPUTS,
    MAX_INPUT_TOKENS,
    MAX_REQUEST_TOKENS,
    embeddings_body,
    request_problem,
    unit_vector,
)
from narrative_fixtures.services.openai.fake.models import FakeOpenAIState
from narrative_fixtures.services.openai.fake.replies import ChatReply, SlowReply
from narrative_fixtures.services.openai.fake.urls import dispatch
from narrative_fixtures.services.openai.fake.validation import Problem

SMALL = "text-embedding-3-small"


def test_token_ids_start_at_zero():
    assert request_problem({"model": SMALL, "input": [0, 5]}) == (None, 200)
    assert request_problem({"model": SMALL, "input": [[0], [7, 0]]}) == (None, 200)
    problem, status = request_problem({"model": SMALL, "input": [[-1]]})
    assert status == 400 and problem.param == "input"


def test_an_input_of_exactly_the_longest_length_and_a_request_of_exactly_the_most_tokens_are_accepted():
    assert request_problem({"model": SMALL, "input": [[1] * MAX_INPUT_TOKENS]}) == (None, 200)
    problem, status = request_problem({"model": SMALL, "input": [[1] * (MAX_INPUT_TOKENS + 1)]})
    assert status == 400 and problem.code == "context_length_exceeded"
    full, rest = divmod(MAX_REQUEST_TOKENS, MAX_INPUT_TOKENS)
    exactly = [[1] * MAX_INPUT_TOKENS] * full + [[1] * rest]
    assert request_problem({"model": SMALL, "input": exactly}) == (None, 200)
    problem, status = request_problem({"model": SMALL, "input": [*exactly, [1]]})
    assert status == 400 and problem.code == "max_tokens_per_request"


def test_each_model_embeds_with_its_own_vectors():
    def vector(model: str) -> list[float]:
        return embeddings_body({"model": model, "input": "hello", "dimensions": 8})["data"][0]["embedding"]

    assert vector(SMALL) == unit_vector(SMALL, "hello", 8)
    assert vector(SMALL) != vector("text-embedding-3-large")


BAD_INPUT = (Problem(INVALID_INPUT, "input"), 400)
REFUSED = {
    "one input too many": ({"input": ["a"] * (MAX_INPUTS + 1)}, BAD_INPUT),
    "no input": ({"input": []}, BAD_INPUT),
    "a number": ({"input": 5}, BAD_INPUT),
    "an empty text after token ids": ({"input": [[1, 2], ""]}, BAD_INPUT),
    "a boolean among token ids after a good list": ({"input": [[1], [True]]}, BAD_INPUT),
    "dimensions for ada-002": ({"model": "text-embedding-ada-002", "input": "a", "dimensions": 8},
                               (Problem("This model does not support specifying dimensions.", "dimensions"), 400)),
    "dimensions as text": ({"input": "a", "dimensions": "8"}, (Problem(
        "Invalid type for 'dimensions': expected an integer, but got a string instead.", "dimensions", "invalid_type"), 400)),
    "dimensions 0": ({"input": "a", "dimensions": 0}, (Problem(
        "Invalid value for 'dimensions' = 0. Must be greater than or equal to 1.", "dimensions", "integer_below_min_value"),
        400)),
    "one dimension too many": ({"input": "a", "dimensions": 1537}, (Problem(
        "Invalid value for 'dimensions' = 1537. Must be less than or equal to 1536.", "dimensions",
        "integer_above_max_value"), 400)),
    "too many tokens in all": ({"input": [[1] * MAX_INPUT_TOKENS] * 37}, (Problem(
        f"Requested {37 * MAX_INPUT_TOKENS} tokens, max {MAX_REQUEST_TOKENS} tokens per request", "input",
        "max_tokens_per_request"), 400)),
}


@pytest.mark.parametrize("body, expected", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_embeddings_request_gets_openai_s_problem_and_status(body, expected):
    assert request_problem({"model": SMALL, **body}) == expected


def test_the_most_inputs_and_the_whole_range_of_dimensions_are_accepted():
    assert request_problem({"model": SMALL, "input": ["a"] * MAX_INPUTS}) == (None, 200)
    for dimensions in (1, 1536):
        assert request_problem({"model": SMALL, "input": "a", "dimensions": dimensions}) == (None, 200)


REFUSED_EARLY = {
    "no model": ({"input": "a"}, (Problem("You must provide a model parameter."), 400)),
    "an unknown model": ({"model": "text-embedding-9", "input": "a"}, (Problem(
        "The model `text-embedding-9` does not exist or you do not have access to it. (The fake OpenAI API embeds"
        " with: text-embedding-3-small, text-embedding-3-large, text-embedding-ada-002.)", None, "model_not_found"), 404)),
    "no input": ({"model": SMALL}, (Problem("'input' is a required property", None, "missing_required_parameter"), 400)),
    "an unknown encoding": ({"model": SMALL, "input": "a", "encoding_format": "utf8"}, (Problem(
        "Invalid value for 'encoding_format' = utf8. Supported values are: 'float' and 'base64'.", "encoding_format",
        "invalid_value"), 400)),
}


@pytest.mark.parametrize("body, expected", REFUSED_EARLY.values(), ids=REFUSED_EARLY.keys())
def test_a_request_without_model_or_input_or_with_an_unknown_one_is_refused_as_openai_does(body, expected):
    assert request_problem(body) == expected


AUTH = [("Authorization", "Bearer sk-test-key")]
REQUEST = json.dumps({"model": SMALL, "input": "hello", "dimensions": 4}).encode()


def test_embeddings_are_answered_with_the_api_s_headers_after_a_scripted_wait():
    state = FakeOpenAIState()
    state.enqueue([SlowReply(0.01, endpoint="embeddings")])
    answer = dispatch(state, "POST", "/v1/embeddings", AUTH, REQUEST)
    assert answer.status == 200 and len(answer.body["data"][0]["embedding"]) == 4
    assert answer.headers["x-request-id"].startswith("req_") and state.pending() == 0


def test_a_text_reply_addressed_to_embeddings_is_a_script_problem_saying_so():
    state = FakeOpenAIState()
    state.enqueue([ChatReply("never served", endpoint="embeddings")])
    answer = dispatch(state, "POST", "/v1/embeddings", AUTH, REQUEST)
    problem = ("a text reply was addressed to embeddings, which are computed, never scripted (address it to chat or"
               " responses)")
    assert answer.status == 500 and answer.body["error"]["message"] == f"fake OpenAI API: {problem}"
    assert state.problems() == [problem]
