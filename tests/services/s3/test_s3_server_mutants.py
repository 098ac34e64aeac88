"""The embedded S3 server's code run in the test process: its error answers, its keep-alive request handler and the
expiry check behind a real werkzeug server, its hermetic AWS environment and its command line. The mutation run
found them reached only in the server's own process (where it cannot see which test calls what)."""

from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from narrative_fixtures.services.s3 import server as s3_server
from narrative_fixtures.services.s3.server import FAKE_CREDENTIALS, PresignedUrlExpiry, _error, make_server

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=k/20000101/us-east-1/s3/aws4_request"}


def _answer(method: str = "GET", **extra: str) -> tuple[str, dict[str, str], bytes]:
    started = []
    body = b"".join(_error({"REQUEST_METHOD": method}, lambda status, headers: started.append((status, headers)),
                           "403 Forbidden", "AccessDenied", "Request has expired", **extra))
    status, headers = started[0]
    return status, dict(headers), body


def test_an_error_answer_is_s3s_xml_with_its_code_message_fields_and_a_request_id():
    status, headers, body = _answer(Expires="2027-01-15T08:00:00Z", ServerTime="2027-01-15T08:00:01Z")
    assert status == "403 Forbidden"
    assert headers == {"Content-Type": "application/xml", "Content-Length": str(len(body))}
    assert re.fullmatch(
        rb'<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied</Code><Message>Request has expired'
        rb"</Message><Expires>2027-01-15T08:00:00Z</Expires><ServerTime>2027-01-15T08:00:01Z</ServerTime>"
        rb"<RequestId>[0-9A-F]{16}</RequestId></Error>", body), body


def test_an_error_answer_to_head_has_the_headers_and_no_body():
    status, headers, body = _answer("HEAD")
    _, _, full = _answer("GET")
    assert (status, body) == ("403 Forbidden", b"")
    assert headers == {"Content-Type": "application/xml", "Content-Length": str(len(full))}


@pytest.fixture
def in_process_server():
    """The embedded server's werkzeug server, app and request handler, served from a thread of this process (one per
    test: the mutation run reruns a test only where it saw the code it mutates called)."""
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _exchange(connection, method: str, path: str, body: bytes | None = None):
    connection.request(method, path, body=body, headers=SIGNED)
    response = connection.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_the_server_listens_where_asked_and_serves_moto_behind_the_expiry_check(in_process_server):
    assert in_process_server.server_address[0] == "127.0.0.1" and in_process_server.server_port > 0
    assert isinstance(in_process_server.app, PresignedUrlExpiry)
    assert in_process_server.multithread


def test_one_connection_carries_requests_with_and_without_bodies(in_process_server):
    connection = http.client.HTTPConnection("127.0.0.1", in_process_server.server_port, timeout=5)
    connection.connect()
    sock = connection.sock
    answers = [
        _exchange(connection, "PUT", "/test-inprocess-keepalive"),
        _exchange(connection, "PUT", "/test-inprocess-keepalive/key", body=b"payload"),
        _exchange(connection, "PUT", "/test-missing-bucket/key", body=b"x" * 70_000),  # refused, body unread by moto
        _exchange(connection, "GET", "/test-inprocess-keepalive/key"),
        _exchange(connection, "DELETE", "/test-inprocess-keepalive/key"),
        _exchange(connection, "DELETE", "/test-inprocess-keepalive"),
    ]
    assert [status for status, _, _ in answers] == [200, 200, 404, 200, 204, 204]
    assert answers[3][2] == b"payload"
    assert all(header != "close" for _, header, _ in answers)
    assert connection.sock is sock, "the server closed the connection"
    connection.close()


def test_a_chunked_body_is_answered_then_its_connection_closed(in_process_server):
    connection = http.client.HTTPConnection("127.0.0.1", in_process_server.server_port, timeout=5)
    connection.request("PUT", "/test-missing-chunked/key", body=iter([b"chunked ", b"body"]), encode_chunked=True,
                       headers=SIGNED)
    response = connection.getresponse()
    response.read()
    assert (response.status, response.getheader("Connection")) == (404, "close")
    connection.close()


def test_a_response_is_sent_without_waiting_for_the_clients_acknowledgement(in_process_server, monkeypatch):
    seen = []

    class Recording(in_process_server.RequestHandlerClass):  # the server's own handler, its socket option read
        def setup(self) -> None:
            super().setup()
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(in_process_server, "RequestHandlerClass", Recording)
    connection = http.client.HTTPConnection("127.0.0.1", in_process_server.server_port, timeout=5)
    assert _exchange(connection, "HEAD", "/test-missing-nodelay")[0] == 404
    connection.close()
    assert seen == [1]  # Nagle's algorithm off: the last pieces of a response are not held back


def test_a_request_is_logged_without_its_query(in_process_server, caplog):
    connection = http.client.HTTPConnection("127.0.0.1", in_process_server.server_port, timeout=5)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        status, _, _ = _exchange(connection, "GET", "/test-missing-logged/key?X-Amz-Signature=the-signature?more")
        connection.close()
        for _ in range(50):  # the handler thread logs after it answered
            if any("test-missing-logged" in record.getMessage() for record in caplog.records):
                break
            time.sleep(0.02)
    lines = [record.getMessage() for record in caplog.records if "test-missing-logged" in record.getMessage()]
    assert status == 404
    assert len(lines) == 1 and lines[0].endswith('"GET /test-missing-logged/key" 404'), lines
    assert "the-signature" not in caplog.text


def test_the_server_forgets_the_users_aws_settings_before_moto_reads_them(monkeypatch):
    before = dict(os.environ)
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-users-session-token")
    monkeypatch.setenv("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    try:
        s3_server.hermetic_aws_environment("eu-west-3")
        assert {name: value for name, value in os.environ.items() if name.startswith(("AWS_", "MOTO_"))} == {
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS[0],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS[1],
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": "eu-west-3",
        }
        s3_server.hermetic_aws_environment()
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    finally:
        os.environ.clear()
        os.environ.update(before)


def test_a_port_already_taken_ends_the_server_with_status_1_naming_it(monkeypatch, capsys):
    before = dict(os.environ)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        assert s3_server.main(["--port", str(port), "--region", "eu-west-3"]) == 1
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-3"
    finally:
        taken.close()
        os.environ.clear()
        os.environ.update(before)
    assert str(port) in capsys.readouterr().err


# --- the expiry check on its own (a fixed clock, an application that says it was reached) ---------------------------

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z


def _checked(query: str) -> tuple[str, bytes]:
    started = []

    def application(environ, start_response):
        start_response("200 OK", [])
        return [b"reached the application"]

    body = b"".join(PresignedUrlExpiry(application, clock=lambda: NOW)(
        {"QUERY_STRING": query, "REQUEST_METHOD": "GET"}, lambda status, headers: started.append(status)))
    return started[0], body


def _sigv4(signed_at: int, seconds: int) -> str:
    return f"X-Amz-Date={time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(signed_at))}&X-Amz-Expires={seconds}"


@pytest.mark.parametrize("seconds", [0, 604_800], ids=["none", "a-week"])
def test_a_sigv4_link_may_live_from_zero_seconds_to_a_week(seconds):
    assert _checked(_sigv4(NOW, seconds)) == ("200 OK", b"reached the application")


@pytest.mark.parametrize("seconds", [-1, 604_801], ids=["negative", "a-week-and-a-second"])
def test_a_sigv4_lifetime_out_of_bounds_is_refused_as_s3_does(seconds):
    status, body = _checked(_sigv4(NOW, seconds))
    assert status == "400 Bad Request"
    assert b"<Code>AuthorizationQueryParametersError</Code><Message>X-Amz-Expires must be less than a week (in " \
           b"seconds) that is 604800</Message><RequestId>" in body


def test_an_expired_link_is_refused_naming_when_it_expired_and_the_servers_time():
    status, body = _checked(_sigv4(NOW - 301, 300))
    assert status == "403 Forbidden"
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message><Expires>2027-01-15T07:59:59Z</Expires>" \
           b"<ServerTime>2027-01-15T08:00:00Z</ServerTime><RequestId>" in body


def _raw_answer(server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):  # the server closes the connection after its answer
            answer += chunk
    return answer


def test_a_request_line_the_server_cannot_read_is_answered_400(in_process_server):
    answer = _raw_answer(in_process_server, b"GET /test-bucket HTTP/one.one\r\n\r\n")  # no version S3 can read
    assert b"Error code explanation: 400" in answer  # answered as HTTP/0.9 (a body only), not dropped


def test_a_request_refused_before_it_reaches_moto_closes_its_connection_saying_so(in_process_server):
    headers = b"".join(b"X-Header-%d: v\r\n" % number for number in range(101))  # more than http.server reads
    answer = _raw_answer(in_process_server, b"GET /test-bucket HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    head = answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0].startswith(b"HTTP/1.1 431") and b"Connection: close" in head[1:], answer


def test_an_empty_body_is_stored_empty(in_process_server):
    connection = http.client.HTTPConnection("127.0.0.1", in_process_server.server_port, timeout=5)
    assert _exchange(connection, "PUT", "/test-inprocess-empty")[0] == 200
    assert _exchange(connection, "PUT", "/test-inprocess-empty/key", body=b"")[0] == 200
    assert _exchange(connection, "GET", "/test-inprocess-empty/key")[::2] == (200, b"")
    assert _exchange(connection, "DELETE", "/test-inprocess-empty/key")[0] == 204
    assert _exchange(connection, "DELETE", "/test-inprocess-empty")[0] == 204
    connection.close()


# --- the command line (python -m narrative_fixtures.services.s3.server) ---------------------------------------------


@pytest.fixture
def own_environment():
    """main() makes the process's AWS environment hermetic: this test's process gets its own back afterwards."""
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def test_the_server_says_where_it_listens_at_once_then_serves_until_stopped(own_environment, monkeypatch):
    served = []
    made = SimpleNamespace(server_port=4242)
    monkeypatch.setattr(s3_server, "make_server", lambda host, port: made if (host, port) == ("127.0.0.1", 0) else None)
    monkeypatch.setattr(s3_server, "serve_until_stopped", lambda server, announce: served.append((server, announce)))
    assert s3_server.main(["--port", "0"]) is None  # what serve_until_stopped answered
    assert served == [(made, "moto S3 server listening on http://127.0.0.1:4242")]  # said once SIGTERM is handled
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"


def test_a_server_that_cannot_listen_says_why_naming_the_address_and_ends_with_status_1(own_environment, monkeypatch,
                                                                                        capsys):
    def refused(host, port):
        raise OSError("[Errno 99] Cannot assign requested address")

    monkeypatch.setattr(s3_server, "make_server", refused)
    assert s3_server.main(["--host", "127.0.0.2", "--port", "4243"]) == 1
    assert capsys.readouterr().err == (
        "cannot listen on 127.0.0.2:4243: [Errno 99] Cannot assign requested address (address already in use?)\n")


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: --port"),
    (["--port", "not-a-port"], "argument --port: invalid int value: 'not-a-port'"),
])
def test_the_command_line_needs_a_port_number(own_environment, capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        s3_server.main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_the_command_line_help_says_what_the_server_is(capsys):
    with pytest.raises(SystemExit):
        s3_server.main(["--help"])
    def words(text: str) -> str:
        return "".join(text.split())  # argparse wraps the description, at spaces and hyphens

    assert words(s3_server.__doc__.splitlines()[0]) in words(capsys.readouterr().out)


def _status_lines(server, request: bytes, expected: int) -> list[bytes]:
    """The status lines answered to ``request`` on one connection, read until ``expected`` came or it closed."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while answer.count(b"HTTP/1.1 ") < expected:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
    return [line for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_a_negative_content_length_is_read_as_no_body(in_process_server):
    request = (b"PUT /test-missing-negative/key HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nAuthorization: "
               + SIGNED["Authorization"].encode() + b"\r\n\r\n")
    assert [line.split(b" ")[1] for line in _status_lines(in_process_server, request, 1)] == [b"404"]


def test_a_request_without_a_query_string_reaches_the_application():
    started = []
    body = b"".join(PresignedUrlExpiry(lambda environ, start: start("200 OK", []) or [b"reached"], clock=lambda: NOW)(
        {"REQUEST_METHOD": "GET"}, lambda status, headers: started.append(status)))  # QUERY_STRING may be absent
    assert (started, body) == (["200 OK"], b"reached")
