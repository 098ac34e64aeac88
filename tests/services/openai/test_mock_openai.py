"""``mock_openai``'s Responses and embeddings surface: autospecced from the SDK (typos fail), answered with the
objects the HTTP fake would give, scriptable like any AsyncMock; nothing goes over the network."""

from __future__ import annotations

import math

import openai
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.responses import ParsedResponse, Response
from pydantic import BaseModel

from narrative_fixtures.services.openai.mock import CANNED_RESPONSES, build_mock

pytestmark = pytest.mark.asyncio


class Recommendation(BaseModel):
    recommended_model: str
    confidence: float


async def test_responses_create_answers_the_canned_text_as_a_response(mock_openai, test_openai_response):
    answer = await mock_openai.client.responses.create(model="gpt-4o", input="Summarise the dataset.")
    assert isinstance(answer, Response) and answer.output_text == test_openai_response["data_summarization"]
    assert answer.status == "completed" and answer.usage.total_tokens > 0
    mock_openai.responses_mock.assert_awaited_once_with(model="gpt-4o", input="Summarise the dataset.")


async def test_responses_parse_parses_the_answer_into_the_text_format():
    mocked = build_mock(CANNED_RESPONSES["model_recommendation"])
    answer = await mocked.client.responses.parse(model="gpt-4o", input="Which model?", text_format=Recommendation)
    assert isinstance(answer, ParsedResponse)
    assert answer.output_parsed == Recommendation(recommended_model="random_forest", confidence=0.87)
    assert mocked.parse_mock.await_count == 1


async def test_a_text_that_is_not_the_format_fails_loudly(mock_openai):
    with pytest.raises(ValueError, match="Recommendation"):
        await mock_openai.client.responses.parse(model="gpt-4o", input="x", text_format=Recommendation)


async def test_embeddings_create_answers_the_fakes_vectors(mock_openai):
    answer = await mock_openai.client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=64)
    assert isinstance(answer, CreateEmbeddingResponse) and [len(item.embedding) for item in answer.data] == [64, 64]
    assert abs(math.sqrt(sum(value * value for value in answer.data[0].embedding)) - 1) < 1e-6
    again = await mock_openai.client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=64)
    assert again.data[0].embedding == answer.data[0].embedding  # the same vectors as the HTTP fake
    assert mock_openai.embeddings_mock.await_count == 2


async def test_a_bad_embeddings_call_raises_the_sdks_error(mock_openai):
    with pytest.raises(openai.BadRequestError, match="does not support specifying dimensions"):
        await mock_openai.client.embeddings.create(model="text-embedding-ada-002", input="a", dimensions=8)
    with pytest.raises(openai.NotFoundError):
        await mock_openai.client.embeddings.create(model="gpt-4o", input="a")


@pytest.mark.parametrize("call", ["responses.create", "responses.parse", "embeddings.create"])
async def test_a_misspelled_argument_raises_type_error(mock_openai, call):
    resource, method = call.split(".")
    with pytest.raises(TypeError):
        await getattr(getattr(mock_openai.client, resource), method)(model="gpt-4o", inptu="typo")


@pytest.mark.parametrize("mock_name", ["responses_mock", "parse_mock", "embeddings_mock"])
async def test_a_misspelled_attribute_raises_attribute_error(mock_openai, mock_name):
    with pytest.raises(AttributeError):
        getattr(mock_openai, mock_name).asert_awaited_once()


@pytest.mark.parametrize("misspelled", ["responses.craete", "responses.parsed", "embedding.create", "embeddings.creat"])
async def test_a_misspelled_call_on_the_client_raises_attribute_error(mock_openai, misspelled):
    resource, method = misspelled.split(".")
    with pytest.raises(AttributeError):
        getattr(getattr(mock_openai.client, resource), method)


async def test_answers_are_scripted_like_any_async_mock(mock_openai):
    mock_openai.responses_mock.return_value = mock_openai.responses_answer("Scripted.")
    mock_openai.embeddings_mock.side_effect = openai.APIConnectionError(request=None)
    assert (await mock_openai.client.responses.create(model="gpt-4o", input="x")).output_text == "Scripted."
    with pytest.raises(openai.APIConnectionError):
        await mock_openai.client.embeddings.create(model="text-embedding-3-small", input="x")


async def test_anything_else_still_fails_with_a_message(mock_openai):
    with pytest.raises(openai.PermissionDeniedError, match="embeddings.create are"):
        await mock_openai.client.files.list()
