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
