"""Self-tests that kill the mutation run's survivors in the fake's embeddings (``fake/embeddings.py``), called
in-process: token ids from 0, the length limits at their exact bounds, each model's own vectors."""

from __future__ import annotations

from narrative_fixtures.services.openai.fake.embeddings import (
    MAX_INPUT_TOKENS,
    MAX_REQUEST_TOKENS,
    embeddings_body,
    request_problem,
    unit_vector,
)

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
