"""The fake's ``/v1/embeddings`` through the real SDK: strict types, deterministic unit vectors, sizes, formats, 400s."""

from __future__ import annotations

import base64
import math
import struct

import httpx
import openai
import pytest
from openai.types import CreateEmbeddingResponse

from narrative_fixtures.services.openai.fake.embeddings import MODEL_DIMENSIONS

from .conftest import KEY
from .strict_models import conforms

SMALL = "text-embedding-3-small"


def strict(server, cls=openai.OpenAI):
    """A client whose every answer must validate strictly (the SDK cannot do so for base64: it asks for floats)."""
    return cls(base_url=server.url, api_key=KEY, _strict_response_validation=True, max_retries=0)


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(value * value for value in vector))


@pytest.mark.parametrize("model", sorted(MODEL_DIMENSIONS))
def test_each_model_answers_unit_vectors_of_its_size_in_the_sdks_strict_types(server, fake, model):
    answer = strict(server).embeddings.create(model=model, input=["Sales rose", "Costs fell"], encoding_format="float")
    assert isinstance(answer, CreateEmbeddingResponse) and answer.model == model
    assert [item.index for item in answer.data] == [0, 1]
    assert all(len(item.embedding) == MODEL_DIMENSIONS[model] for item in answer.data)
    assert all(abs(norm(item.embedding) - 1) < 1e-6 for item in answer.data)
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {KEY}"}) as http:
        raw = http.post("/embeddings", json={"model": model, "input": ["a", [1, 2]], "encoding_format": "float"})
    conforms(CreateEmbeddingResponse, raw.json())  # the wire JSON itself: strict, nothing left over, no warning


def test_same_input_same_vector_and_different_inputs_far_apart(server, fake):
    client = strict(server)
    first, again, other = (
        client.embeddings.create(model=SMALL, input=text, encoding_format="float").data[0].embedding
        for text in ("revenue by region", "revenue by region", "churn by month")
    )
    assert first == again
    assert abs(sum(a * b for a, b in zip(first, other))) < 0.2  # random directions in 1536 dimensions


def test_the_sdks_default_base64_decodes_to_the_float_answer(server, fake):
    client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)  # the SDK asks for base64 unless told
    decoded = client.embeddings.create(model=SMALL, input="hello").data[0].embedding
    assert fake.last_request.body["encoding_format"] == "base64"
    assert decoded == client.embeddings.create(model=SMALL, input="hello", encoding_format="float").data[0].embedding


def test_base64_is_little_endian_float32_on_the_wire(server, fake):
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {KEY}"}) as http:
        raw = http.post("/embeddings", json={"model": SMALL, "input": "hi", "encoding_format": "base64"}).json()
        floats = http.post("/embeddings", json={"model": SMALL, "input": "hi"}).json()
    data = base64.b64decode(raw["data"][0]["embedding"])
    assert list(struct.unpack(f"<{len(data) // 4}f", data)) == floats["data"][0]["embedding"]


def test_dimensions_shorten_the_vector_to_a_renormalised_prefix(server, fake):
    client = strict(server)
    full = client.embeddings.create(model=SMALL, input="x", encoding_format="float").data[0].embedding
    short = client.embeddings.create(model=SMALL, input="x", dimensions=256, encoding_format="float").data[0].embedding
    assert len(short) == 256 and abs(norm(short) - 1) < 1e-6
    scale = norm(full[:256])
    assert all(abs(a - b / scale) < 1e-6 for a, b in zip(short, full[:256]))


def test_batches_of_token_arrays_and_usage_by_the_token_rule(server, fake):
    answer = strict(server).embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(answer.data) == 2 and answer.usage.prompt_tokens == answer.usage.total_tokens == 5
    single = strict(server).embeddings.create(model=SMALL, input=[7, 8, 9, 10], encoding_format="float")
    assert len(single.data) == 1 and single.usage.prompt_tokens == 4
    text = strict(server).embeddings.create(model=SMALL, input=["Hello", "abcd"], encoding_format="float")
    assert text.usage.prompt_tokens == 2 + 1  # ceil(5 / 4) + ceil(4 / 4)


@pytest.mark.asyncio
async def test_the_async_client_gets_the_same_vectors(server, fake):
    async with strict(server, openai.AsyncOpenAI) as client:
        answer = await client.embeddings.create(model=SMALL, input="same", encoding_format="float")
    assert answer.data[0].embedding == strict(server).embeddings.create(
        model=SMALL, input="same", encoding_format="float"
    ).data[0].embedding


BAD = [
    ({"input": "x"}, 400, None, "You must provide a model parameter."),
    ({"model": "gpt-4o", "input": "x"}, 404, "model_not_found", "The model `gpt-4o` does not exist"),
    ({"model": SMALL}, 400, "missing_required_parameter", "'input' is a required property"),
    ({"model": SMALL, "input": ""}, 400, None, "'$.input' is invalid"),
    ({"model": SMALL, "input": []}, 400, None, "'$.input' is invalid"),
    ({"model": SMALL, "input": ["ok", 3.5]}, 400, None, "'$.input' is invalid"),
    ({"model": SMALL, "input": ["x"] * 2049}, 400, None, "'$.input' is invalid"),
    ({"model": SMALL, "input": "x", "encoding_format": "int8"}, 400, "invalid_value", "'encoding_format' = int8"),
    ({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}, 400, None, "does not support specifying"),
    ({"model": SMALL, "input": "x", "dimensions": 0}, 400, "integer_below_min_value", "'dimensions' = 0"),
    ({"model": SMALL, "input": "x", "dimensions": 1537}, 400, "integer_above_max_value", "less than or equal to 1536"),
    ({"model": SMALL, "input": "x", "dimensions": "8"}, 400, "invalid_type", "Invalid type for 'dimensions'"),
    ({"model": SMALL, "input": "x" * 40_000}, 400, "context_length_exceeded", "maximum context length is 8192"),
]


@pytest.mark.parametrize("body, status, code, message", BAD, ids=[m for *_, m in BAD])
def test_bad_requests_get_openais_errors_and_are_recorded(server, fake, body, status, code, message):
    with pytest.raises(openai.APIStatusError) as raised:
        strict(server).post("/embeddings", cast_to=CreateEmbeddingResponse, body=body)
    assert raised.value.status_code == status
    assert raised.value.body["code"] == code and message in raised.value.body["message"]
    assert [(entry.path, entry.status) for entry in fake.requests] == [("/v1/embeddings", status)]


def test_every_request_is_recorded_and_takes_no_scripted_chat_reply(server, fake):
    fake.reply("for the chat")
    strict(server).embeddings.create(model=SMALL, input="x", encoding_format="float")
    assert fake.last_request.path == "/v1/embeddings" and fake.last_request.status == 200
    assert fake.last_request.headers["authorization"] == "Bearer ***" and fake.pending == 1


def test_a_scripted_429_addressed_to_embeddings_is_retried_by_the_sdk(server, fake):
    fake.reply("for the chat").fail(429, retry_after=0.01, endpoint="embeddings")
    client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=2)
    answer = client.embeddings.create(model=SMALL, input="x", encoding_format="float")
    assert len(answer.data[0].embedding) == 1536
    assert [entry.status for entry in fake.requests] == [429, 200] and fake.calls("embeddings") == 2
    assert fake.pending == 1, "the chat reply is still waiting for a chat request"


def test_an_unaddressed_error_serves_embeddings_too(server, fake):
    fake.fail(503)
    with pytest.raises(openai.InternalServerError):
        strict(server).embeddings.create(model=SMALL, input="x", encoding_format="float")


def test_a_text_reply_addressed_to_embeddings_fails_loudly(server, fake):
    fake.reply("vectors please", endpoint="embeddings")
    with pytest.raises(openai.InternalServerError) as raised:
        strict(server).embeddings.create(model=SMALL, input="x", encoding_format="float")
    assert "addressed to embeddings" in raised.value.body["message"]
    assert fake.take_problems() and fake.pending == 0
