"""Checked as an outside team would: a backend that embeds through the real SDK (with its own client, given the
fake's address) and uploads a file, tested with the plugin's own fixtures in a project of its own."""

from __future__ import annotations

APP = '''
"""A backend's search service: the nearest stored question by embedding, and a file upload for a batch job."""
import openai


def client_for(base_url: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=api_key)


def nearest(client, question: str, stored: list[str]) -> str:
    answer = client.embeddings.create(model="text-embedding-3-small", input=[question, *stored])
    query, *candidates = (item.embedding for item in answer.data)
    scores = [sum(a * b for a, b in zip(query, vector)) for vector in candidates]
    return stored[scores.index(max(scores))]


async def embed_all(client, texts: list[str]) -> list[list[float]]:
    answer = await client.embeddings.create(model="text-embedding-3-large", input=texts, dimensions=512)
    return [item.embedding for item in answer.data]


def upload_rows(client, rows: bytes) -> str:
    return client.files.create(file=("rows.jsonl", rows), purpose="batch").id
'''

TESTS = '''
import openai
import pytest

import app


def test_the_same_question_is_its_own_nearest(openai_service, openai_server):
    client = app.client_for(openai_service.url, openai_service.api_key)
    stored = ["How many rows?", "Which model fits?", "Why did job 42 fail?"]
    assert app.nearest(client, "Which model fits?", stored) == "Which model fits?"
    assert openai_server.calls("embeddings") == 1
    assert openai_server.last_request.body["encoding_format"] == "base64"  # the SDK's default, decoded by it


@pytest.mark.asyncio
async def test_a_batch_of_shortened_vectors(openai_client):
    vectors = await app.embed_all(openai_client, ["a", "b", "c"])
    assert [len(vector) for vector in vectors] == [512, 512, 512] and len({tuple(v) for v in vectors}) == 3


def test_an_upload_says_the_fake_does_not_serve_it(openai_server, openai_sync_client):
    with pytest.raises(openai.NotFoundError) as raised:
        app.upload_rows(openai_sync_client, b"{}\\n")
    assert "the fake OpenAI API (narrative-fake-openai) does not serve this endpoint" in raised.value.message
    assert openai_server.counts.get("files") == 1
'''


def test_a_backend_that_embeds_passes_against_the_embedded_fake(project):
    project.makepyfile(app=APP, test_app=TESTS)
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=3)
