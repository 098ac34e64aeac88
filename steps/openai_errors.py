"""Steps of the OpenAI feature for failures the fake is scripted to send (401, 429, 500, a slow answer) and the
SDK's retries, checked in the fake's record."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.openai.fake import DEFAULT_CONTENT
from steps.openai_support import MODEL, QUOTED, Asked, attempt, openai, user


# --- failures and retries -----------------------------------------------------------------------------------

FAILURES = {
    "an invalid API key error (401)": lambda fake: fake.fail(401),
    "a rate limit error (429)": lambda fake: fake.fail(429, retry_after=0.01),
    # Retry-After: 10 ms, or the SDK's own backoff (0.5 s and more) would dominate the scenario; the retry stays real
    "a server error (500)": lambda fake: fake.fail(500, retry_after=0.01),
    "a response slower than the timeout": lambda fake: fake.slow(5.0),
}


@given(parsers.re(r"the fake API answers the next request with (?P<failure>.+)"))
def next_request_fails(fake, failure):
    FAILURES[failure](fake)


@when(
    parsers.re(r"the assistant is asked {} without retries and with a (?P<timeout>[\d.]+) second timeout".format(QUOTED.format("question"))),
    target_fixture="asked",
)
def ask_once(openai_client, run_async, question, timeout):
    client = openai_client.with_options(max_retries=0, timeout=float(timeout))
    completion, error = run_async(attempt(client.chat.completions.create(model=MODEL, messages=user(question))))
    return Asked(question, completion, error)


@then(parsers.re(r"the call fails with the SDK's (?P<exception>\w+)"))
def fails_with(asked, exception):
    assert asked.completion is None, f"the call succeeded: {asked.completion}"
    assert type(asked.error) is getattr(openai, exception), f"{type(asked.error).__name__}: {asked.error}"
    if isinstance(asked.error, openai.APIStatusError):
        assert asked.error.body["message"] and asked.error.request_id.startswith("req_")
    if isinstance(asked.error, openai.RateLimitError):
        assert asked.error.response.headers["retry-after"] == "1"  # whole seconds, rounded up from 10 ms


@then(parsers.re(r"the fake API received exactly (?P<count>\d+) requests?"))
def received_count(fake, count):
    assert len(fake.chat_requests) == int(count)


@then("the answer is the fake API's standard answer")
def standard_answer(asked):
    assert asked.error is None, f"the call failed: {asked.error!r}"
    assert asked.completion.choices[0].message.content == DEFAULT_CONTENT


@then(parsers.re(r"the fake API received (?P<count>\d+) requests, answered (?P<first>\d+) then 200"))
def retried(fake, count, first):
    assert [entry.status for entry in fake.chat_requests] == [int(first), 200]
    assert len(fake.chat_requests) == int(count)
    bodies = [entry.body for entry in fake.chat_requests]
    assert bodies[0] == bodies[1], "the SDK retried the same request"
    retry_counts = [entry.headers.get("x-stainless-retry-count") for entry in fake.chat_requests]
    assert retry_counts == ["0", "1"], retry_counts
