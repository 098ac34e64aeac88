"""Self-tests that kill the mutation run's survivors in the fake's unserved 404, its input-item pages
(``fake/response_items.py``) and its Responses event stream (``fake/response_events.py``), called in-process."""

from __future__ import annotations

import json

from narrative_fixtures.services.openai.fake import responses
from narrative_fixtures.services.openai.fake.response_events import encoded, events
from narrative_fixtures.services.openai.fake.response_items import MAX_LIMIT, item_page, listed_inputs
from narrative_fixtures.services.openai.fake.unserved import not_found, served_endpoints

ITEMS = listed_inputs([{"role": "user", "content": text} for text in ("one", "two", "three")])


def _error(answer) -> tuple[int, dict]:
    return answer.status, answer.body["error"]


def test_the_404_lists_the_served_endpoints_separated_by_commas():
    answer = not_found(responses.Incoming("GET", "/v1/nowhere", {}, None))
    served = ", ".join(served_endpoints())
    assert served.startswith("POST /v1/chat/completions, ")
    expected = f"the fake OpenAI API ({responses.FAKE_NAME}) does not serve this endpoint. It serves: {served}."
    assert answer.status == 404 and answer.body["error"]["message"] == f"Invalid URL (GET /v1/nowhere): {expected}"


def test_an_unknown_order_is_refused_with_the_api_s_message_param_and_code():
    status, error = _error(item_page(ITEMS, {"order": "up"}))
    assert status == 400 and (error["param"], error["code"]) == ("order", "invalid_value")
    assert error["message"] == "Invalid value: 'up'. Supported values are: 'asc' and 'desc'."
    long_order = "x" * 50
    assert f"'{'x' * 40}'" in _error(item_page(ITEMS, {"order": long_order}))[1]["message"]


def test_a_limit_outside_1_to_100_or_not_a_number_is_refused_naming_limit():
    for bad in ("abc", "0", str(MAX_LIMIT + 1), "-1"):
        status, error = _error(item_page(ITEMS, {"limit": bad}))
        assert status == 400 and error["param"] == "limit", bad
        assert error["message"] == f"Invalid 'limit': expected an integer between 1 and 100, but got {bad!r}.", bad
    assert f"got {'9' * 40!r}." in _error(item_page(ITEMS, {"limit": "9" * 50}))[1]["message"]
    assert len(item_page(ITEMS, {"limit": str(MAX_LIMIT)})["data"]) == 3  # the largest limit is served


def test_a_page_names_its_first_and_last_items_and_an_empty_page_names_none():
    page = item_page(ITEMS, {"order": "asc", "limit": "2"})
    assert (page["first_id"], page["last_id"], page["has_more"]) == (ITEMS[0]["id"], ITEMS[1]["id"], True)
    empty = item_page(ITEMS, {"order": "asc", "after": ITEMS[-1]["id"]})
    assert (empty["data"], empty["first_id"], empty["last_id"], empty["has_more"]) == ([], "", "", False)


def test_after_an_id_that_is_not_listed_the_page_is_empty():
    page = item_page(ITEMS, {"after": "msg_unknown"})
    assert (page["data"], page["first_id"], page["has_more"]) == ([], "", False)


def _served(*output: dict) -> dict:
    return {"id": "resp_1", "object": "response", "status": "completed", "output": list(output), "usage": {}}


def _message(text: str) -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def test_a_message_streams_one_word_per_delta_by_default_from_an_empty_part():
    streamed = list(events(_served(_message("one two three"))))
    assert [e["delta"] for e in streamed if e["type"] == "response.output_text.delta"] == ["one ", "two ", "three"]
    (added,) = [e for e in streamed if e["type"] == "response.content_part.added"]
    assert added["part"]["text"] == ""
    assert [e["sequence_number"] for e in streamed] == list(range(len(streamed)))


def test_an_empty_message_streams_no_delta():
    streamed = list(events(_served(_message(""))))
    assert not [e for e in streamed if e["type"] == "response.output_text.delta"]
    (done,) = [e for e in streamed if e["type"] == "response.output_text.done"]
    assert done["text"] == ""


def test_a_function_call_is_announced_with_empty_arguments_then_streamed():
    call = {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "f",
            "arguments": '{"table": "ds-42"}'}
    streamed = list(events(_served(call)))
    (added,) = [e for e in streamed if e["type"] == "response.output_item.added"]
    assert added["item"]["arguments"] == "" and added["item"]["status"] == "in_progress"
    deltas = [e["delta"] for e in streamed if e["type"] == "response.function_call_arguments.delta"]
    assert "".join(deltas) == call["arguments"]


def _ids_and_rest(listed: list[dict]) -> tuple[list[str], list[dict]]:
    return [item["id"] for item in listed], [{k: v for k, v in item.items() if k != "id"} for item in listed]


def test_input_items_are_stored_as_the_api_lists_them_each_kind_with_its_own_id_prefix():
    call = {"type": "function_call", "call_id": "call_1", "name": "count_rows", "arguments": "{}"}
    given = [
        {**call, "id": "fc_given"}, call,
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"type": "reasoning", "summary": []},
        {"role": "assistant", "content": "Hi"},
        {"type": "message", "role": "assistant", "id": "msg_given",
         "content": [{"type": "output_text", "text": "Hel"}, {"type": "output_text", "text": "lo"}, {"type": "x"}]},
        {"role": "user", "content": "Count"},
        {"role": "developer", "content": [{"type": "input_text", "text": "Be brief"}]},
    ]
    ids, rest = _ids_and_rest(listed_inputs(given))
    assert ids[0] == "fc_given" and ids[5] == "msg_given" and len(set(ids)) == len(ids)
    prefixes = ["fc_", "fco_", "item_", "msg_", "msg_", "msg_"]
    assert all(item_id.startswith(prefix) and len(item_id) > len(prefix) + 8 for item_id, prefix in zip(ids[1:5] + ids[6:], prefixes))
    call_stored = {"type": "function_call", "status": "completed", "call_id": "call_1", "name": "count_rows", "arguments": "{}"}
    said = lambda text: {"type": "message", "role": "assistant", "status": "completed",  # noqa: E731
                         "content": [{"type": "output_text", "text": text, "annotations": []}]}
    assert rest == [
        call_stored, call_stored,
        {"type": "function_call_output", "status": "completed", "call_id": "call_1", "output": "42"},
        {"type": "reasoning", "summary": []},
        said("Hi"), said("Hello"),
        {"type": "message", "role": "user", "status": "completed", "content": [{"type": "input_text", "text": "Count"}]},
        {"type": "message", "role": "developer", "status": "completed",
         "content": [{"type": "input_text", "text": "Be brief"}]},
    ]


def test_the_encoded_stream_is_one_word_per_delta_unless_told_how_many():
    served = _served(_message("one two three"))

    def deltas(stream) -> list[str]:
        lines = [chunk.decode().split("\n") for chunk in stream]
        assert all(line[0] == f"event: {json.loads(line[1][len('data: '):])['type']}" for line in lines)
        return [json.loads(line[1][len("data: "):]).get("delta") for line in lines if line[0].endswith(".delta")]

    assert deltas(encoded(served)) == ["one ", "two ", "three"]
    assert deltas(encoded(served, 2)) == ["one two ", "three"]
