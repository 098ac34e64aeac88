"""Self-tests that kill the mutation run's survivors in the fake OpenAI API's state (``fake/models.py``): the token
rule's text of a tool call, the zero usage details, ids counted from 1, which scripted reply a request takes, and
the bound on the Responses kept."""

from __future__ import annotations

from narrative_fixtures.services.openai.fake.models import (
    MAX_STORED_RESPONSES,
    ChatReply,
    ErrorReply,
    FakeOpenAIState,
    SlowReply,
    message_text,
    prompt_tokens,
    usage,
)


def test_a_message_s_text_adds_each_tool_call_s_name_and_arguments_a_missing_one_adds_nothing():
    message = {
        "content": "ab",
        "tool_calls": [
            {"function": {"name": "f", "arguments": "{}"}},
            {"function": {"arguments": "[1]"}},
            {"function": {"name": "g"}},
        ],
    }
    assert message_text(message) == "abf{}[1]g"
    assert prompt_tokens([message]) == 3 + 3 + 3  # "abf{}[1]g": 9 characters, 3 tokens


def test_usage_totals_prompt_and_completion_and_every_detail_is_zero():
    assert usage(8, 3) == {
        "prompt_tokens": 8,
        "completion_tokens": 3,
        "total_tokens": 11,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def test_ids_count_from_one_in_a_new_state():
    state = FakeOpenAIState()
    assert [state.next_id() for _ in range(3)] == [1, 2, 3]


def test_a_request_takes_the_first_reply_of_a_kind_it_accepts_and_the_default_only_when_its_kind_fits():
    state = FakeOpenAIState()
    unaddressed = ChatReply("any endpoint")
    state.enqueue([unaddressed])
    assert state.next_reply() is unaddressed  # the default endpoint is chat, which an unaddressed reply serves
    error, text = ErrorReply(500), ChatReply("text")
    state.enqueue([error, text])
    assert state.next_reply("chat", kinds=("chat",)) is text  # the error is skipped, not taken
    assert state.pending() == 1
    assert state.next_reply("chat", kinds=("error",)) is error
    assert state.next_reply("chat", kinds=("error", "slow")) is None  # the default is a chat reply
    default = state.default_reply()
    assert state.next_reply("chat", kinds=("chat",)) is default
    state.set_default(SlowReply(0.0))
    assert state.next_reply("chat", kinds=("slow",)).kind == "slow"


def test_the_state_keeps_the_newest_responses_up_to_its_bound_dropping_the_oldest():
    state = FakeOpenAIState()
    for number in range(MAX_STORED_RESPONSES + 1):
        state.store_response({"id": f"resp_{number}"}, [])
    assert state.stored_response("resp_0") is None
    assert state.stored_response("resp_1") is not None  # exactly the bound is kept
    assert state.stored_response(f"resp_{MAX_STORED_RESPONSES}").response == {"id": f"resp_{MAX_STORED_RESPONSES}"}
