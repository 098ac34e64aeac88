"""Errors as the OpenAI API sends them, on every generating endpoint: OpenAI's body, the SDK's own exception, the
headers a retry or an application's back-off reads (``retry-after``, ``retry-after-ms``, ``x-ratelimit-*``,
``x-request-id``), and per-endpoint call counts to assert the retries."""

from __future__ import annotations

import json

import openai
import pytest

from narrative_fixtures.services.openai.fake import ErrorReply, FakeOpenAI, RemoteBackend
from narrative_fixtures.services.openai.fake.models import reply_from_dict, reply_to_dict
from tests.services.openai.strict_models import KEY, strict_client

STATUSES = [
    (400, openai.BadRequestError),
    (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError),
    (409, openai.ConflictError),
    (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]
HELLO = [{"role": "user", "content": "Hello"}]


def ask(client, endpoint: str):
    if endpoint == "responses":
        return client.responses.create(model="gpt-4o", input="Hello").output_text
    return client.chat.completions.create(model="gpt-4o", messages=HELLO).choices[0].message.content


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
@pytest.mark.parametrize(("status", "exception"), STATUSES, ids=[str(status) for status, _ in STATUSES])
def test_each_status_is_the_sdks_own_exception_with_openais_body(fake, server, endpoint, status, exception):
    fake.fail(status)
    with strict_client(server, max_retries=0) as client, pytest.raises(exception) as raised:
        ask(client, endpoint)
    error = raised.value
    assert type(error) is exception and error.status_code == status
    assert set(error.body) == {"message", "type", "param", "code"} and error.body["message"]
    assert error.request_id.startswith("req_") and error.response.headers["x-request-id"] == error.request_id
    assert fake.calls(endpoint) == 1


def test_a_429_carries_the_rate_limit_headers(fake, server):
    fake.fail(429, retry_after=0.25)
    with strict_client(server, max_retries=0) as client, pytest.raises(openai.RateLimitError) as raised:
        ask(client, "responses")
    headers = raised.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("1", "250")
    assert headers["x-ratelimit-remaining-requests"] == "0" and headers["x-ratelimit-reset-requests"] == "0.25s"
    assert int(headers["x-ratelimit-limit-requests"]) > 0 and int(headers["x-ratelimit-limit-tokens"]) > 0
    assert raised.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_the_sdk_retries_after_retry_after_ms_and_gets_the_answer(fake, server, endpoint):
    fake.fail(429, retry_after=0.01).fail(503, retry_after=0.01).reply("after the retries")
    with strict_client(server, max_retries=2) as client:
        assert ask(client, endpoint) == "after the retries"
    assert fake.calls(endpoint) == 3
    assert [(e.status, e.headers["x-stainless-retry-count"]) for e in fake.requests] == [(429, "0"), (503, "1"), (200, "2")]


def test_an_application_back_off_reads_the_headers(fake, server):
    """What a test of an application's own back-off asserts: the wait it was told, and that it asked again."""
    fake.fail(429, retry_after=0.02, times=2).reply("finally")
    waits = []
    with strict_client(server, max_retries=0) as client:
        for _ in range(3):
            try:
                answer = ask(client, "responses")
                break
            except openai.RateLimitError as error:
                waits.append(int(error.response.headers["retry-after-ms"]))
    assert answer == "finally" and waits == [20, 20] and fake.calls("responses") == 3


def test_an_error_addressed_to_one_endpoint_leaves_the_other_alone(fake, server):
    fake.fail(503, endpoint="responses", extra_headers={"X-Should-Retry": "false"})
    with strict_client(server) as client:
        assert ask(client, "chat") == "This is a response from the fake OpenAI API."
        with pytest.raises(openai.InternalServerError) as raised:
            ask(client, "responses")
    assert raised.value.response.headers["x-should-retry"] == "false"
    assert fake.counts == {"chat": 1, "responses": 1}, "x-should-retry: false stops the SDK's retries"


def test_errors_and_counts_travel_through_the_control_api(fake, server):
    reply = ErrorReply(429, "slow down", retry_after=0.01, extra_headers={"x-trace": "1"}, endpoint="responses")
    assert reply_from_dict(json.loads(json.dumps(reply_to_dict(reply)))) == reply
    remote = FakeOpenAI(server.url, RemoteBackend(server.root_url), KEY)
    remote.script(reply)
    with strict_client(server) as client:
        assert ask(client, "responses") == "This is a response from the fake OpenAI API."
    assert remote.counts == {"responses": 2} and remote.calls("responses") == 2 and remote.problems == []
    server.state.add_problem("a scripted answer did not fit")
    assert remote.take_problems() == ["a scripted answer did not fit"] and remote.problems == []
