"""Self-tests that kill the mutation run's survivors in the fake's chat completions (``fake/chat.py``), called
in-process: a streamed answer opens with the assistant's role and empty content, or no content for tool calls."""

from __future__ import annotations

from narrative_fixtures.services.openai.fake.chat import chat_completion_body, chat_completion_chunks, completion_tokens
from narrative_fixtures.services.openai.fake.models import tokens
from narrative_fixtures.services.openai.fake.replies import ChatReply, ToolCall

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def _first_delta(reply: ChatReply) -> dict:
    return next(iter(chat_completion_chunks(reply, BODY)))["choices"][0]["delta"]


def test_a_streamed_text_answer_opens_with_the_role_and_empty_content():
    assert _first_delta(ChatReply("Hello there")) == {"role": "assistant", "content": "", "refusal": None}


def test_a_streamed_tool_call_answer_opens_with_the_role_and_no_content():
    first = _first_delta(ChatReply(tool_calls=(ToolCall("count_rows", {"table": "ds-42"}),)))
    assert first == {"role": "assistant", "content": None, "refusal": None}


def test_completion_tokens_count_the_text_and_each_tool_call_s_name_and_arguments():
    call = ToolCall("count_rows", {"table": "ds-42"})
    assert completion_tokens(ChatReply(tool_calls=(call,))) == tokens(call.name + call.arguments_json) > 0
    assert completion_tokens(ChatReply("Hello there", tool_calls=(call, call))) == (
        tokens("Hello there") + 2 * tokens(call.name + call.arguments_json))


def test_scripted_usage_fills_what_it_does_not_give_with_zero_and_the_sum():
    assert _usage_of(ChatReply("x", usage={"total_tokens": 5})) == (0, 0, 5)
    assert _usage_of(ChatReply("x", usage={"prompt_tokens": 3, "completion_tokens": 4})) == (3, 4, 7)
    assert _usage_of(ChatReply("x", usage={})) == (0, 0, 0)


def _usage_of(reply: ChatReply) -> tuple[int, int, int]:
    served = chat_completion_body(reply, BODY)["usage"]
    return served["prompt_tokens"], served["completion_tokens"], served["total_tokens"]
