"""Self-tests that kill the mutation run's survivors in the fake's scripted replies (``fake/replies.py``), called
in-process: an error of a status OpenAI has no wording for, a slow reply's endpoint checked, the control API's wire
format read back with its defaults."""

from __future__ import annotations

import pytest

from narrative_fixtures.services.openai.fake.replies import (
    ChatReply,
    ErrorReply,
    SlowReply,
    ToolCall,
    reply_from_dict,
    reply_to_dict,
)


def test_an_error_of_a_status_without_openai_wording_is_a_generic_api_error():
    assert ErrorReply(418).body() == {
        "error": {"message": "The request failed.", "type": "api_error", "param": None, "code": None}}


def test_a_slow_reply_addressed_to_an_endpoint_the_fake_does_not_serve_is_refused():
    with pytest.raises(ValueError, match="endpoint='chats' is not one the fake serves"):
        SlowReply(0.1, endpoint="chats")


def test_a_description_without_kind_tool_calls_or_then_reads_as_the_defaults():
    assert reply_from_dict({"content": "hi"}) == ChatReply(content="hi")
    assert reply_from_dict({"kind": "chat", "content": "hi", "tool_calls": None}) == ChatReply(content="hi")
    assert reply_from_dict({"kind": "slow", "delay": 0.5}) == SlowReply(0.5)
    assert reply_from_dict({"kind": "slow", "delay": 0.5, "then": None}) == SlowReply(0.5)


def test_every_reply_reads_back_as_itself():
    replies = [ChatReply(tool_calls=(ToolCall("f", {"a": 1}, "call_1"),)), ErrorReply(429, retry_after=0.5),
               SlowReply(0.2, then=ErrorReply(500), endpoint="chat")]
    assert [reply_from_dict(reply_to_dict(reply)) for reply in replies] == replies


def test_an_unknown_kind_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^unknown reply kind 'weird' \(chat, error or slow\)$"):
        reply_from_dict({"kind": "weird"})


def test_an_error_keeps_the_type_and_code_a_test_gives_even_an_empty_code():
    assert ErrorReply(418, type="custom_error", code="").body()["error"] == {
        "message": "The request failed.", "type": "custom_error", "param": None, "code": ""}
    with pytest.raises(ValueError, match="endpoint='chats'"):
        ErrorReply(500, endpoint="chats")


def test_a_429_carries_retry_and_rate_limit_headers_in_lower_case():
    assert ErrorReply(429, retry_after=0.25).headers() == {
        "retry-after": "1", "retry-after-ms": "250",
        "x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "0.25s",
        "x-ratelimit-limit-tokens": "200000", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "0.25s",
    }
    assert ErrorReply(429).headers()["x-ratelimit-reset-requests"] == "1s"  # no retry_after: reset in a second


def test_retry_after_is_never_negative_and_its_milliseconds_are_exact():
    assert ErrorReply(503, retry_after=0).headers() == {"retry-after": "0", "retry-after-ms": "0"}
    assert ErrorReply(503, retry_after=-2).headers() == {"retry-after": "0", "retry-after-ms": "0"}
    assert ErrorReply(503, retry_after=2.0).headers() == {"retry-after": "2", "retry-after-ms": "2000"}


def test_extra_headers_override_by_lower_case_name():
    headers = ErrorReply(503, retry_after=1, extra_headers={"Retry-After": 7, "X-Custom": "yes"}).headers()
    assert headers == {"retry-after": "7", "retry-after-ms": "1000", "x-custom": "yes"}


def test_tool_calls_given_as_a_list_are_kept_as_a_tuple():
    reply = ChatReply(tool_calls=[ToolCall("count_rows")])
    assert reply.tool_calls == (ToolCall("count_rows"),) and reply.content is None and reply.finish == "tool_calls"


def test_a_reply_to_an_unknown_endpoint_is_refused_naming_the_served_ones():
    with pytest.raises(ValueError) as raised:
        ChatReply(endpoint="images")
    assert str(raised.value) == "endpoint='images' is not one the fake serves (chat, responses, embeddings, or None: any)"
