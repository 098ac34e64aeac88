"""Self-tests that kill the mutation run's survivors in the fake's routing (``fake/urls.py``), called in-process:
a served path with another method is OpenAI's 405 naming both, an unserved one its 404, bad JSON says why."""

from __future__ import annotations

import json

from narrative_fixtures.services.openai.fake.models import FakeOpenAIState
from narrative_fixtures.services.openai.fake.urls import dispatch, endpoint_name, parse_json

AUTH = [("Authorization", "Bearer sk-test-key")]


def _error(answer) -> tuple[int, str]:
    return answer.status, answer.body["error"]["message"]


def test_a_served_path_with_another_method_is_a_405_naming_the_method_and_path():
    answer = dispatch(FakeOpenAIState(), "GET", "/v1/chat/completions", AUTH, b"")
    assert _error(answer) == (405, "Method GET not allowed on /v1/chat/completions")
    assert answer.body["error"]["type"] == "invalid_request_error"


def test_an_unserved_path_is_openai_s_404():
    assert _error(dispatch(FakeOpenAIState(), "GET", "/v1/nowhere", AUTH, b""))[0] == 404


def test_a_body_that_is_not_json_is_kept_as_text_with_the_parser_s_reason():
    text, problem = parse_json(b'{"model": ')
    assert text == '{"model": ' and problem is not None and "Expecting value" in problem
    assert parse_json(b'{"model": "m"}') == ({"model": "m"}, None) and parse_json(b"") == (None, None)


def test_a_body_with_bytes_that_are_not_utf8_is_kept_with_replacement_characters():
    text, problem = parse_json(b'{"model": "\xff"}')
    assert text == '{"model": "\ufffd"}' and problem is not None


def test_requests_are_counted_under_the_first_segment_after_v1():
    assert endpoint_name("/v1/chat/completions") == "chat"
    assert endpoint_name("/v1/responses/resp_1/input_items") == "responses"
    assert endpoint_name("/v1/embeddings") == "embeddings" and endpoint_name("/v1/models/m") == "models"


def test_only_the_first_question_mark_ends_the_path():
    state = FakeOpenAIState()
    answer = dispatch(state, "GET", "/v1/models?after=a?b", AUTH, b"")
    assert answer.status == 200
    (entry,) = state.requests()
    assert entry.path == "/v1/models?after=a?b" and entry.status == 200


def test_a_body_over_the_fake_s_own_record_limit_is_kept_as_a_summary():
    state = FakeOpenAIState(record_body_limit=40)
    raw = b'{"model": "m", "input": "' + b"x" * 60 + b'"}'
    dispatch(state, "POST", "/v1/embeddings", AUTH, raw)
    (entry,) = state.requests()
    assert entry.truncated is True and entry.body != {"model": "m", "input": "x" * 60}
    assert entry.body_bytes == len(raw)


def test_the_query_is_everything_after_the_first_question_mark():
    state = FakeOpenAIState()
    body = {"model": "m", "input": [{"role": "user", "content": text} for text in ("one", "two", "three")]}
    created = dispatch(state, "POST", "/v1/responses", AUTH, json.dumps(body).encode())
    page = dispatch(state, "GET", f"/v1/responses/{created.body['id']}/input_items?limit=1&note=a?b", AUTH, b"")
    assert page.status == 200 and len(page.body["data"]) == 1 and page.body["has_more"] is True


def test_a_body_refused_unread_is_answered_as_refused_and_recorded_without_it():
    from narrative_fixtures.services.openai.fake import responses

    for announced, truncated in ((1, True), (0, False)):
        state, refused = FakeOpenAIState(), responses.invalid("too large", status=413)
        answer = dispatch(state, "POST", "/v1/chat/completions", AUTH, b"", refused=refused, body_bytes=announced)
        assert answer is refused
        (entry,) = state.requests()
        assert (entry.body, entry.body_bytes, entry.truncated, entry.status) == (None, announced, truncated, 413)


def test_a_small_body_read_in_full_is_recorded_whole_and_not_truncated():
    state = FakeOpenAIState()
    raw = json.dumps({"model": "m", "input": "hello"}).encode()
    dispatch(state, "POST", "/v1/embeddings", AUTH, raw)
    (entry,) = state.requests()
    assert (entry.body, entry.body_bytes, entry.truncated) == ({"model": "m", "input": "hello"}, len(raw), False)
