"""Self-tests that kill the mutation run's survivors in what the fake keeps of its requests (``fake/record.py``):
a body's summary at its exact bounds, the bounded record's count of dropped requests, the recorded fields."""

from __future__ import annotations

import json

from narrative_fixtures.services.openai.fake.record import (
    SUMMARY_FIELD_LIMIT,
    Record,
    RecordedRequest,
    mask_headers,
    not_kept,
    summarize_body,
)


def test_a_body_within_the_limit_is_kept_itself_one_byte_more_is_summarized():
    body = {"model": "gpt-4", "x": 1}
    assert summarize_body(body, 12, limit=12) is body
    assert summarize_body(body, 13, limit=12) == {"model": "gpt-4", "...": "[not kept: 1 more fields]"}
    assert summarize_body(["a", "list"], 13, limit=12) == not_kept(13) == "[not kept: 13 bytes]"


def test_a_summary_keeps_fields_up_to_the_limit_counting_a_large_field_at_its_field_limit():
    exact = "z" * (SUMMARY_FIELD_LIMIT - 2)  # its JSON (with quotes) is exactly the field limit: kept as is
    assert summarize_body({"e": exact}, 5000, limit=2000) == {"e": exact}
    compact = {"ab": [0] * 508}  # its compact JSON is exactly the field limit: kept as is
    assert len(json.dumps(compact, separators=(",", ":"))) == SUMMARY_FIELD_LIMIT
    assert summarize_body({"e": compact}, 5000, limit=2000) == {"e": compact}
    over = "z" * (SUMMARY_FIELD_LIMIT - 1)
    assert summarize_body({"e": over}, 5000, limit=2000) == {"e": not_kept(SUMMARY_FIELD_LIMIT + 1)}
    body = {"a": "x" * 3000, "b": "y" * 3000, "c": 1, "d": 2}
    limit = 2 * (1 + SUMMARY_FIELD_LIMIT)  # a and b fit, each counted as its name and the field limit
    assert summarize_body(body, 9000, limit=limit) == {
        "a": not_kept(3002), "b": not_kept(3002), "...": "[not kept: 2 more fields]"}


def test_the_record_keeps_the_newest_requests_and_counts_the_dropped_ones():
    record = Record(max_records=2)
    requests = [RecordedRequest("POST", f"/v1/{n}", {}, None) for n in range(3)]
    for request in requests[:2]:
        record.add(request)
    assert record.entries() == requests[:2] and record.dropped == 0
    record.add(requests[2])
    assert record.entries() == requests[1:] and record.dropped == 1 and record.max_records == 2
    record.clear()
    assert record.entries() == [] and record.dropped == 0


def test_a_recorded_request_reads_its_model_and_messages_from_a_json_object_only():
    said = [{"role": "user", "content": "hi"}]
    request = RecordedRequest("POST", "/v1/chat/completions", {}, {"model": "gpt-4", "messages": said})
    assert (request.model, request.messages, request.status, request.body_bytes, request.truncated) == (
        "gpt-4", said, None, 0, False)
    assert RecordedRequest("POST", "/", {}, {"messages": "[not kept: 9 bytes]"}).messages == []
    text = RecordedRequest("POST", "/", {}, "not json")
    assert (text.model, text.messages) == (None, [])
    assert text.to_dict()["body"] == "not json" and text.to_dict()["path"] == "/"


def test_recorded_headers_are_lower_cased_with_credentials_masked():
    masked = mask_headers([("Authorization", "Bearer sk-secret-key"), ("Content-Type", "application/json")])
    assert masked["content-type"] == "application/json"
    assert "sk-secret-key" not in masked["authorization"] and masked["authorization"].startswith("Bearer ")
