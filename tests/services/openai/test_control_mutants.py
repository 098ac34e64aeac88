"""Self-tests that kill the mutation run's survivors in the scripting interface of the fake (``fake/control.py``):
what the remote backend sends to a control API (method, path, JSON body, timeout) and reads from its answers
(defaults for missing fields, an empty body), its one-line errors, and the fields the scripting shortcuts pass on."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from narrative_fixtures.services.openai.fake.control import (
    ControlAPIError,
    FakeOpenAI,
    LocalBackend,
    RemoteBackend,
    as_reply,
)
from narrative_fixtures.services.openai.fake.models import (
    ChatReply,
    ErrorReply,
    FakeOpenAIState,
    SlowReply,
    ToolCall,
    reply_to_dict,
)


class _Recording(BaseHTTPRequestHandler):
    """A control API that records each call and answers what the test told it (status and raw body)."""

    protocol_version = "HTTP/1.1"

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.calls.append((self.command, self.path, self.headers.get("Content-Type"), body))
        status, payload = self.server.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, *args):
        pass


@pytest.fixture
def control_api():
    """A recording control API on a free port: ``.calls`` lists (method, path, content type, body)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    server.calls, server.answer = [], (200, b"{}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.root = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _answer(server, payload: dict | bytes, status: int = 200) -> None:
    server.answer = (status, payload if isinstance(payload, bytes) else json.dumps(payload).encode())


def test_each_remote_call_sends_its_method_path_and_json_body(control_api):
    backend = RemoteBackend(control_api.root + "/")
    reply = ChatReply("hello")
    backend.enqueue([reply])
    backend.set_default(reply)
    backend.reset()
    assert control_api.calls == [
        ("POST", "/_fake/script", "application/json", json.dumps({"replies": [reply_to_dict(reply)]}).encode()),
        ("PUT", "/_fake/default", "application/json", json.dumps({"reply": reply_to_dict(reply)}).encode()),
        ("POST", "/_fake/reset", "application/json", b"{}"),
    ]


def test_remote_reads_send_no_body_and_take_their_fields(control_api):
    backend = RemoteBackend(control_api.root)
    _answer(control_api, {"requests": [], "dropped": 3, "counts": {"chat": 2}, "problems": ["p"], "pending": 4})
    assert backend.requests() == []
    assert (backend.dropped(), backend.counts(), backend.problems(), backend.pending()) == (3, {"chat": 2}, ["p"], 4)
    assert backend.take_problems() == ["p"]
    methods_paths = [(method, path) for method, path, _, _ in control_api.calls]
    assert methods_paths == [("GET", "/_fake/requests")] * 4 + [("GET", "/_fake/health"), ("DELETE", "/_fake/problems")]
    assert {body for _, _, _, body in control_api.calls} == {None}


def test_remote_reads_default_missing_fields_and_an_empty_answer_reads_as_nothing(control_api):
    backend = RemoteBackend(control_api.root)
    _answer(control_api, b"")
    assert backend.call("GET", "requests") == {}
    assert (backend.dropped(), backend.counts(), backend.problems(), backend.take_problems()) == (0, {}, [], [])


def test_a_refused_control_call_is_one_line_naming_method_url_status_and_answer(control_api):
    backend = RemoteBackend(control_api.root)
    _answer(control_api, b"no such scope " + b"x" * 400, status=404)
    for call, method, path in [
        (backend.requests, "GET", "requests"),
        (backend.pending, "GET", "health"),
        (backend.counts, "GET", "requests"),
        (backend.problems, "GET", "requests"),
        (backend.dropped, "GET", "requests"),
        (lambda: backend.enqueue([ChatReply()]), "POST", "script"),
        (backend.reset, "POST", "reset"),
    ]:
        with pytest.raises(ControlAPIError) as refused:
            call()
        expected = f"{method} {control_api.root}/_fake/{path}: 404 " + repr(b"no such scope " + b"x" * 286)
        assert str(refused.value) == expected


def test_an_unreachable_control_api_is_one_line_naming_the_method_and_url(control_api):
    root = control_api.root
    control_api.shutdown()
    control_api.server_close()  # nothing listens on the port any more
    with pytest.raises(ControlAPIError) as unreachable:
        RemoteBackend(root).pending()
    assert str(unreachable.value).startswith(f"GET {root}/_fake/health: ")
    assert "refused" in str(unreachable.value).lower()


def test_a_remote_backend_keeps_its_root_without_trailing_slash_and_passes_its_timeout(monkeypatch):
    assert RemoteBackend("http://fake.example/_scope/BOX/").root_url == "http://fake.example/_scope/BOX"
    assert RemoteBackend("http://fake.example").timeout == 5
    seen = []

    class _Answer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b'{"pending": 0}'

    def urlopen(request, timeout=object()):
        seen.append(timeout)
        return _Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert RemoteBackend("http://fake.example", timeout=0.5).pending() == 0
    assert RemoteBackend("http://fake.example").pending() == 0
    assert seen == [0.5, 5]


def test_a_reply_description_becomes_its_reply_and_anything_else_is_refused_by_name():
    assert as_reply({"kind": "error", "status": 429}) == ErrorReply(429)
    with pytest.raises(TypeError, match=r"^not a reply: 42 \(a text, ChatReply"):
        as_reply(42)


def test_a_local_default_is_the_state_s_default():
    state = FakeOpenAIState()
    reply = ChatReply("the default")
    LocalBackend(state).set_default(reply)
    assert state.default_reply() is reply


class _Queue:
    """A backend that only keeps what the shortcuts enqueue."""

    def __init__(self):
        self.queued = []

    def enqueue(self, replies):
        self.queued.extend(replies)


def _queued(script) -> list:
    backend = _Queue()
    script(FakeOpenAI("http://127.0.0.1:9/v1", backend, "sk-test"))
    return backend.queued


def test_the_scripting_shortcuts_pass_their_fields_on():
    assert _queued(lambda fake: fake.reply_json({"a": 1}, endpoint="responses")) == [
        ChatReply('{"a": 1}', endpoint="responses")]
    call = ToolCall("lookup", {"q": 1})
    assert _queued(lambda fake: fake.reply_with_tool_call("lookup", {"q": 1}, model="m")) == [
        ChatReply(None, tool_calls=(call,), model="m")]
    assert _queued(lambda fake: fake.reply_with_tool_calls([], endpoint="chat")) == [
        ChatReply(None, endpoint="chat")]  # no calls: still no text
    assert _queued(lambda fake: fake.fail(503, "down", times=2, endpoint="chat")) == [
        ErrorReply(503, "down", endpoint="chat")] * 2
    assert _queued(lambda fake: fake.slow(0.5, "late", endpoint="responses")) == [
        SlowReply(0.5, ChatReply("late"), endpoint="responses")]
