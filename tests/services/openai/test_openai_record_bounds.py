"""The fake OpenAI API's bounds: a body over the cap answers 413 unread, a large accepted body is recorded as a
bounded summary, the record keeps the newest requests and counts the dropped ones, headers are masked by the one
masking module."""

from __future__ import annotations

import json
import tracemalloc

import openai
import pytest

from narrative_fixtures.services.openai.fake import FakeOpenAI, FakeOpenAIServer, LocalBackend
from narrative_fixtures.services.openai.fake.models import mask_headers

from .conftest import KEY
from .raw_http import sdk, send

# --- the body cap and the bounded record --------------------------------------------------------------------------

BIG = 64 * 1024 * 1024


def test_a_64_mb_body_answers_413_without_being_held(fake, server):
    payload = b'{"model": "gpt-4", "messages": [{"role": "user", "content": "' + b"x" * BIG + b'"}]}'
    tracemalloc.start()
    try:
        status, answer = send(server, payload)  # answered at all: a hang is the test's timeout, never a bound here
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    limit = server.state.max_body_bytes
    assert (status, answer) == (
        413,
        {"error": {"message": f"Request body too large: {len(payload)} bytes; the fake OpenAI API accepts at most"
                              f" {limit} bytes.", "type": "invalid_request_error", "param": None,
                   "code": "request_too_large"}},
    )
    assert peak < 4 * 1024 * 1024, f"the server held {peak} bytes while refusing the body"
    [entry] = fake.requests
    assert entry.status == 413 and entry.body is None and entry.body_bytes == len(payload)
    del payload


def test_the_sdk_sees_the_413_too(fake, server):
    with sdk(server) as client, pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x" * BIG}])
    assert raised.value.status_code == 413 and raised.value.code == "request_too_large"


def test_a_large_accepted_body_is_recorded_as_a_bounded_summary(fake, server):
    text = "y" * (2 * 1024 * 1024)
    with sdk(server) as client:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": text}], n=2)
    [entry] = fake.requests
    kept = json.dumps(entry.to_dict())
    assert len(kept) < 2 * server.state.record_body_limit, "a huge body is summarised, not kept"
    assert entry.body_bytes > len(text) and entry.truncated
    assert entry.model == "gpt-4" and entry.body["n"] == 2 and entry.messages == []
    assert entry.body["messages"].startswith("[not kept: ")


def test_the_number_of_records_is_bounded_and_the_dropped_ones_counted():
    fake_server = FakeOpenAIServer(max_records=5).start()
    try:
        fake = FakeOpenAI(fake_server.url, LocalBackend(fake_server.state), KEY)
        with sdk(fake_server) as client:
            for index in range(8):
                client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": str(index)}])
        assert [entry.messages[0]["content"] for entry in fake.requests] == ["3", "4", "5", "6", "7"]
        assert fake.dropped == 3
        fake.reset()
        assert fake.requests == [] and fake.dropped == 0
    finally:
        fake_server.stop()


def test_the_default_record_is_bounded(server):
    assert 0 < server.state.max_records <= 10_000 and 0 < server.state.record_body_limit <= 1024 * 1024


# --- case 7: one masking module ------------------------------------------------------------------------------------


def test_recorded_headers_are_masked_by_the_one_masking_module():
    masked = mask_headers(
        [("Authorization", f"Bearer {KEY}"), ("api-key", "azure-secret"), ("X-Api-Key", "k-1234"),
         ("Proxy-Authorization", "Basic dXNlcjpwYXNz"), ("X-Trace", "kept")]
    )
    assert masked == {
        "authorization": "Bearer ***", "api-key": "***", "x-api-key": "***", "proxy-authorization": "Basic ***",
        "x-trace": "kept",
    }
