"""The embedded S3 server's keep-alive connection at its edges, in the test process: requests sent back-to-back
(the next one already waiting while werkzeug discards what follows a response), and the log line of a request line
it cannot read."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from narrative_fixtures.services.s3.server import make_server

AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=k/20000101/us-east-1/s3/aws4_request"
BODY = b"x" * 70_000  # more than one read of the connection's buffer


@pytest.fixture
def server():
    """The embedded server's werkzeug server and request handler, served from a thread of this process."""
    served = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=served.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def _put(path: str, body: bytes) -> bytes:
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTHORIZATION}\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def _answers(connection: socket.socket, count: int) -> list[bytes]:
    """The status lines of the next ``count`` answers on ``connection`` (each of them without a body)."""
    received = b""
    while received.count(b"\r\n\r\n") < count:
        chunk = connection.recv(65536)
        if not chunk:
            break  # the server closed the connection
        received += chunk
    return [answer.split(b"\r\n", 1)[0] for answer in received.split(b"\r\n\r\n") if answer]


def _server_errors(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if "Error on request" in record.getMessage()]


def test_two_large_puts_sent_back_to_back_on_one_connection_are_both_answered_without_an_error(server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"), \
            socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
        connection.sendall(_put("/test-back-to-back", b""))
        assert _answers(connection, 1) == [b"HTTP/1.1 200 OK"]
        connection.sendall(_put("/test-back-to-back/first", BODY) + _put("/test-back-to-back/second", BODY))
        assert _answers(connection, 2) == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"]
        connection.sendall(f"GET /test-back-to-back/second HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTHORIZATION}"
                           "\r\n\r\n".encode())
        received = b""
        while not received.endswith(BODY):
            chunk = connection.recv(65536)
            assert chunk, "the server closed the connection"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200 OK")
    assert _server_errors(caplog) == []  # what follows each answer was left for the next request, not misread


def test_a_put_sent_while_the_server_still_answers_the_last_one_is_answered_without_an_error(server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"), \
            socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
        connection.sendall(_put("/test-answering", b""))
        for number in range(5):
            first = _answers(connection, 1)
            connection.sendall(_put(f"/test-answering/{number}", BODY))  # at once: the server is still discarding
            assert first == [b"HTTP/1.1 200 OK"]
        assert _answers(connection, 1) == [b"HTTP/1.1 200 OK"]
    assert _server_errors(caplog) == []


def _logged_status_lines(caplog, status: str) -> list[str]:
    for _ in range(50):  # the handler thread logs after it answered
        lines = [record.getMessage() for record in caplog.records if record.getMessage().endswith(f'" {status}')]
        if lines:
            return lines
        time.sleep(0.02)
    return []


def test_a_request_line_the_server_cannot_read_is_logged_with_its_status_and_no_path(server, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"), \
            socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as connection:
        connection.sendall(b"GET /test-bucket HTTP/one.one\r\n\r\n")
        while connection.recv(65536):  # answered 400, then closed
            pass
        lines = _logged_status_lines(caplog, "400")
    assert len(lines) == 1 and lines[0].endswith('"None " 400'), lines  # no method, no path: none was read
