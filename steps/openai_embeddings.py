"""Steps of the OpenAI feature for embeddings and for what the fake does not serve: thin, they drive the real
OpenAI SDK against the plugin's fake."""

from __future__ import annotations

import math
import re

from pytest_bdd import parsers, then, when

from steps.openai_support import Asked, attempt, quoted


@when(
    parsers.re(r'the backend embeds (?P<listed>".+") with model "(?P<model>[^"]+)"(?: (?P<size>at its standard size|shortened to \d+ numbers))?$'),
    target_fixture="embedded",
)
def embed(openai_client, run_async, listed, model, size):
    shortened = re.search(r"\d+", size or "")
    options = {"dimensions": int(shortened.group())} if shortened else {}
    texts = quoted(listed)
    answer = run_async(openai_client.embeddings.create(model=model, input=texts, **options))
    return {"texts": texts, "answer": answer}


@then(parsers.parse("each text gets a vector of {numbers:d} numbers of length 1"))
def vectors_of_size(embedded, numbers):
    data = embedded["answer"].data
    assert [item.index for item in data] == list(range(len(embedded["texts"])))
    for item in data:
        assert len(item.embedding) == numbers
        assert abs(math.sqrt(sum(value * value for value in item.embedding)) - 1) < 1e-6


@then("the same text gets the same vector and different texts get different vectors")
def same_and_different(embedded):
    vectors = {}
    for text, item in zip(embedded["texts"], embedded["answer"].data):
        assert vectors.setdefault(text, item.embedding) == item.embedding, f"{text!r} got two vectors"
    assert len({tuple(vector) for vector in vectors.values()}) == len(vectors), "two texts share a vector"


@then(parsers.parse("the usage reports {tokens:d} tokens for the {count:d} texts, all received in one request"))
def embedding_usage(embedded, fake, tokens, count):
    usage = embedded["answer"].usage
    assert (usage.prompt_tokens, usage.total_tokens) == (tokens, tokens)
    (request,) = [entry for entry in fake.requests if entry.path == "/v1/embeddings"]
    assert request.body["input"] == embedded["texts"] and len(request.body["input"]) == count


@when("the backend uploads a file to the OpenAI API", target_fixture="asked")
def upload_a_file(openai_client, run_async):
    upload = openai_client.with_options(max_retries=0).files.create(file=("rows.jsonl", b"{}\n"), purpose="batch")
    completion, error = run_async(attempt(upload))
    return Asked("upload", completion, error)


@then(parsers.re(r'the error says the fake OpenAI API does not serve "(?P<route>[^"]+)" and lists "(?P<served>[^"]+)" among what it serves'))
def says_not_served(asked, route, served):
    message = asked.error.body["message"]
    method, path = route.split(" ", 1)
    assert message.startswith(f"Invalid URL ({method} {path}): the fake OpenAI API"), message
    assert "does not serve this endpoint" in message and served in message.split("It serves: ", 1)[1]


@then(parsers.parse("the fake API recorded the upload with its answer {status:d}"))
def upload_recorded(fake, status):
    assert [(entry.method, entry.path, entry.status) for entry in fake.requests] == [("POST", "/v1/files", status)]
