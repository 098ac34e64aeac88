"""Self-tests that kill the mutation run's survivors in the fake's HTTP layer (``fake/server.py``): its log (one
line per request with status and milliseconds, a bug's traceback, http.server's own messages), its answer to a bug
of its own, a client gone or a reply abandoned, its connections, and the in-process server's start and stop."""

from __future__ import annotations

import json
import locale
import re
import socket
import time
import urllib.request
from types import SimpleNamespace

import pytest

from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.services.openai.fake import responses, server as server_module, urls
from narrative_fixtures.services.openai.fake.models import FakeOpenAIState
from narrative_fixtures.services.openai.fake.server import FakeHTTPServer, FakeOpenAIServer

from .conftest import KEY
from .test_server_mutants import answers, exchange, request


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / "not" / "yet" / "there" / "fake.log"  # the server makes its directories


@pytest.fixture
def fake_http(log_path):
    server = FakeHTTPServer(("127.0.0.1", 0), FakeOpenAIState(), log_path)
    yield server
    server.server_close()


@pytest.fixture
def clock(monkeypatch):
    """The server module's clock steps 0.25 s per reading, so a request's logged time is exactly 250.0 ms."""
    readings = iter(range(1, 10_000))
    monkeypatch.setattr(server_module, "time", SimpleNamespace(
        perf_counter=lambda: 0.25 * next(readings), strftime=time.strftime))


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_the_log_opens_with_a_dated_line_naming_the_url_and_is_written_line_by_line(fake_http, log_path, clock):
    header, = _lines(log_path)  # readable while the server runs: line buffered
    port = fake_http.server_address[1]
    assert re.fullmatch(rf"--- \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d fake OpenAI API on http://127\.0\.0\.1:{port}/v1", header)
    exchange(fake_http, request("GET", "/v1/models"))
    assert _lines(log_path)[1:] == ["GET /v1/models 200 250.0ms"]


def test_a_log_line_is_kept_as_given_with_one_line_end(fake_http, log_path):
    for line in ("kept  ", "endsX", "one end\n"):
        fake_http.log(line)
    assert _lines(log_path)[1:] == ["kept  ", "endsX", "one end"]


def test_a_streamed_answer_is_logged_with_its_status(fake_http, log_path, clock):
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()
    (status, headers, _), = answers(exchange(fake_http, request("POST", "/v1/chat/completions", body)).written)
    assert (status, headers["transfer-encoding"].lower()) == (200, "chunked")
    assert _lines(log_path)[-1] == "POST /v1/chat/completions 200 250.0ms"


def test_a_bug_of_the_fake_is_answered_500_and_its_traceback_logged(fake_http, log_path, clock, monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(urls, "dispatch", broken)
    (status, _, body), = answers(exchange(fake_http, request("GET", "/v1/models")).written)
    assert status == 500
    assert json.loads(body) == {"error": {"message": "fake OpenAI server error: RuntimeError('boom') (see its log)",
                                          "type": "server_error", "param": None, "code": None}}
    log = log_path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "RuntimeError: boom" in log
    assert _lines(log_path)[-1] == "GET /v1/models 500 250.0ms"


def test_an_abandoned_reply_closes_the_connection_unanswered_and_is_logged(fake_http, log_path, clock, monkeypatch):
    monkeypatch.setattr(urls, "dispatch", lambda *args: responses.ABANDON)
    connection = exchange(fake_http, request("GET", "/v1/models") + request("GET", "/v1/models"))
    assert connection.written == b""
    assert _lines(log_path)[1:] == ["GET /v1/models abandoned 250.0ms"]  # the next request is never read


def test_a_client_gone_closes_the_connection_and_is_logged(fake_http, log_path, clock):
    exchange(fake_http, request("GET", "/v1/models") + request("GET", "/v1/models"), writes_fail=True)
    assert _lines(log_path)[1:] == ["GET /v1/models client gone 250.0ms"]


def test_http_server_s_own_messages_go_to_the_log(fake_http, log_path):
    written = exchange(fake_http, b"GARBAGE\r\n\r\n").written  # an HTTP/0.9 answer: http.server's page alone
    assert b"Error code: 400" in written
    assert "code 400, message Bad request syntax ('GARBAGE')" in log_path.read_text(encoding="utf-8")


def test_an_error_serving_a_connection_is_logged_with_its_traceback(fake_http, log_path):
    try:
        raise ValueError("broken connection")
    except ValueError:
        fake_http.handle_error(None, ("127.0.0.1", 5))
    log = log_path.read_text(encoding="utf-8")
    assert "error serving ('127.0.0.1', 5): Traceback" in log and "ValueError: broken connection" in log


def test_a_finished_connection_is_forgotten(fake_http):
    mine, theirs = socket.socketpair()
    fake_http._connections.add(mine)
    fake_http.shutdown_request(mine)
    theirs.close()
    assert mine not in fake_http._connections


def test_an_unstarted_server_is_not_alive_and_stops_quietly():
    fake = FakeOpenAIServer()
    assert (fake.alive(), fake.started_in) == (False, None)
    fake.stop()


def test_an_in_process_server_logs_to_its_log_path(log_path):
    fake = FakeOpenAIServer(log_path=log_path).start()
    try:
        assert fake.log_path == log_path
        request = urllib.request.Request(fake.url + "/models", headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    finally:
        fake.stop()
    assert _lines(log_path)[-1].startswith("GET /v1/models 200 ")


def test_a_server_that_cannot_listen_names_itself_and_the_setting_to_change():
    fake = FakeOpenAIServer()

    def cannot_bind(host, port):
        raise OSError("address in use")

    fake.make_server = cannot_bind
    with pytest.raises(ServiceUnavailable) as refused:
        fake.start()
    assert str(refused.value) == "openai: cannot listen on 127.0.0.1 (address in use); set TEST_OPENAI_MODE"
    assert fake.runner is None


def test_the_log_is_written_in_utf8_whatever_the_locale(log_path):
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # an ASCII locale: a file opened without an encoding takes ASCII only
    try:
        server = FakeHTTPServer(("127.0.0.1", 0), FakeOpenAIState(), log_path)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    try:
        server.log("GET /v1/models/gpt-4o-caf\u00e9 404 1.0ms")
    finally:
        server.server_close()
    assert _lines(log_path)[-1] == "GET /v1/models/gpt-4o-caf\u00e9 404 1.0ms"
