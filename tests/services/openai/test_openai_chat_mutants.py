"""Self-tests that kill the mutation run's survivors in the fake's chat completions (``fake/chat.py``), called
in-process: a streamed answer opens with the assistant's role and empty content, or no content for tool calls."""

from __future__ import annotations

from narrative_fixtures.services.openai.fake.chat import chat_completion_chunks
from narrative_fixtures.services.openai.fake.replies import ChatReply, ToolCall

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def _first_delta(reply: ChatReply) -> dict:
    return next(iter(chat_completion_chunks(reply, BODY)))["choices"][0]["delta"]


def test_a_streamed_text_answer_opens_with_the_role_and_empty_content():
    assert _first_delta(ChatReply("Hello there")) == {"role": "assistant", "content": "", "refusal": None}


def test_a_streamed_tool_call_answer_opens_with_the_role_and_no_content():
    first = _first_delta(ChatReply(tool_calls=(ToolCall("count_rows", {"table": "ds-42"}),)))
    assert first == {"role": "assistant", "content": None, "refusal": None}
