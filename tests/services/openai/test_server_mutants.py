"""Self-tests that kill the mutation run's survivors in the fake's HTTP layer (``fake/server.py``): how it frames a
request body (``Content-Length``, ``Transfer-Encoding: chunked``, ``Expect: 100-continue``) at the cap's exact
bounds, what it records of a body it refuses, and that it closes a connection it cannot frame.

The handler is driven over an in-memory connection (:class:`Wire`): exactly the bytes a client sent, exactly the
bytes the fake wrote back, and how much of the request it read."""

from __future__ import annotations

import io
import json

import pytest

from narrative_fixtures.services.openai.fake.models import FakeOpenAIState
from narrative_fixtures.services.openai.fake.server import FakeHTTPServer, _Handler

from .conftest import KEY

CAP = 64  # the body cap of the fake under test (bytes)
MODELS = b'{"a":1}'  # a 7-byte JSON body GET /v1/models accepts (and ignores)


class ReadPastEnd(Exception):
    """The handler kept reading a connection that had ended (a loop that would spin forever on a socket)."""


class _Incoming(io.BytesIO):
    """What the client sent; counts reads at its end and remembers how far the handler read when it closes."""

    def __init__(self, sent: bytes) -> None:
        super().__init__(sent)
        self.consumed: int | None = None
        self._at_end = 0

    def _note(self, data: bytes) -> bytes:
        if not data:
            self._at_end += 1
            if self._at_end > 20:
                raise ReadPastEnd("the handler read an ended connection 20 times")
        return data

    def readline(self, size=-1):
        return self._note(super().readline(size))

    def read(self, size=-1):
        return self._note(super().read(size))

    def close(self) -> None:
        if self.consumed is None:
            self.consumed = self.tell()
        super().close()


class Wire:
    """An in-memory connection for the fake's handler (``makefile`` / ``sendall``, as ``socketserver`` uses it)."""

    def __init__(self, sent: bytes, writes_fail: bool = False) -> None:
        self.incoming = _Incoming(sent)
        self.written = bytearray()
        self.writes_fail = writes_fail

    def makefile(self, mode: str, *args) -> _Incoming:
        return self.incoming

    def sendall(self, data: bytes) -> None:
        if self.writes_fail:
            raise BrokenPipeError("the client went away")
        self.written += data


def request(method: str, path: str, body: bytes | None = None, **headers: str) -> bytes:
    """A raw HTTP/1.1 request with the fake key; header names from keywords (``content_length`` ...)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {KEY}"]
    if body is not None and "transfer_encoding" not in headers and "content_length" not in headers:
        headers["content_length"] = str(len(body))
    lines += [f"{name.replace('_', '-').title()}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def answers(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The answers in what the fake wrote: (status, headers with lower-case names, body), chunked bodies joined."""
    found, stream = [], io.BytesIO(bytes(raw))
    while True:
        status_line = stream.readline()
        if not status_line:
            return found
        status = int(status_line.split()[1])
        headers = {}
        for line in iter(stream.readline, b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":  # a coding is case-insensitive
            body = b""
            while (size := int(stream.readline(), 16)) != 0:
                body += stream.read(size)
                stream.readline()
            stream.readline()
        else:
            body = stream.read(int(headers.get("content-length", 0)))
        found.append((status, headers, body))


@pytest.fixture
def fake_http(tmp_path):
    """A FakeHTTPServer (bound, never serving: the tests hand its handler a :class:`Wire`), body cap :data:`CAP`."""
    server = FakeHTTPServer(("127.0.0.1", 0), FakeOpenAIState(max_body_bytes=CAP), tmp_path / "fake.log")
    yield server
    server.server_close()


def exchange(server, sent: bytes, **wire) -> Wire:
    """Let the fake's handler serve one connection that sent ``sent`` (then ended)."""
    connection = Wire(sent, **wire)
    _Handler(connection, ("127.0.0.1", 40000), server)
    return connection


def message(body: bytes) -> str:
    return json.loads(body)["error"]["message"]


def test_expect_100_continue_past_the_cap_is_refused_before_the_body_is_sent(fake_http):
    sent = request("POST", "/v1/chat/completions", content_length=str(CAP + 1), expect="100-continue")
    (status, headers, body), = answers(exchange(fake_http, sent).written)  # one answer: no 100 Continue first
    assert (status, headers["connection"]) == (413, "close")
    assert message(body) == f"Request body too large: {CAP + 1} bytes; the fake OpenAI API accepts at most {CAP} bytes."
    (recorded,) = fake_http.state.requests()
    assert (recorded.status, recorded.body_bytes, recorded.truncated) == (413, CAP + 1, True)


def test_expect_100_continue_at_the_cap_is_continued_and_read(fake_http):
    sent = request("GET", "/v1/models", MODELS + b" " * (CAP - len(MODELS)), expect="100-continue")
    continued, (status, headers, _) = answers(exchange(fake_http, sent).written)
    assert (continued[0], status) == (100, 200) and "connection" not in headers


def _chunked(*chunks: bytes, end: bytes = b"0\r\n\r\n") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + end


def test_a_chunked_body_with_chunk_extensions_and_trailers_is_read(fake_http):
    body = b"7;name=value;other=1\r\n" + MODELS + b"\r\n0\r\nx-trailer: 1\r\n\r\n"
    (status, _, _), = answers(exchange(fake_http, request("GET", "/v1/models", body, transfer_encoding="chunked")).written)
    assert status == 200


def test_a_chunked_body_of_exactly_the_cap_is_read_one_byte_more_is_refused_and_recorded(fake_http):
    exact = MODELS + b" " * (CAP - len(MODELS))
    sent = request("GET", "/v1/models", _chunked(exact[:10], exact[10:]), transfer_encoding="chunked")
    (status, headers, _), = answers(exchange(fake_http, sent).written)
    assert status == 200 and "connection" not in headers
    sent = request("GET", "/v1/models", _chunked(exact[:10], exact[10:] + b" "), transfer_encoding="chunked")
    (status, headers, body), = answers(exchange(fake_http, sent).written)
    assert (status, headers["connection"]) == (413, "close")
    assert message(body).startswith(f"Request body too large: {CAP + 1} bytes;")
    refused = fake_http.state.requests()[-1]
    assert (refused.status, refused.body_bytes, refused.truncated) == (413, CAP + 1, True)


def test_a_chunk_size_that_is_no_number_is_refused_recorded_without_a_body_and_closes(fake_http):
    sent = request("GET", "/v1/models", b"zz\r\n" + MODELS + b"\r\n0\r\n\r\n", transfer_encoding="chunked")
    (status, headers, body), = answers(exchange(fake_http, sent).written)
    assert (status, headers["connection"]) == (400, "close")
    assert message(body) == "Invalid chunked request body: a chunk size is no hexadecimal number."
    (recorded,) = fake_http.state.requests()
    assert (recorded.body_bytes, recorded.truncated) == (0, False)


def test_a_chunk_size_line_is_read_at_most_1024_bytes_at_a_time(fake_http):
    line = b"7;" + b"x" * 1021 + b"\r\n"  # 1025 bytes: its line end is past the bound
    sent = request("GET", "/v1/models", line + MODELS + b"\r\n0\r\n\r\n", transfer_encoding="chunked")
    (status, _, _), = answers(exchange(fake_http, sent).written)
    assert status == 400  # never taken whole: the body does not frame


def test_chunk_data_not_followed_by_its_line_end_is_refused(fake_http):
    sent = request("GET", "/v1/models", b"7\r\n" + MODELS + b"junkjun\r\n0\r\n\r\n", transfer_encoding="chunked")
    (status, _, body), = answers(exchange(fake_http, sent).written)
    assert status == 400 and "chunk size" in message(body)


def test_a_chunked_body_with_bare_line_feeds_ends_at_its_blank_line_and_the_next_request_is_served(fake_http):
    first = request("GET", "/v1/models", b"7\n" + MODELS + b"\n0\n\n", transfer_encoding="chunked")
    served = answers(exchange(fake_http, first + request("GET", "/v1/models")).written)
    assert [status for status, _, _ in served] == [200, 200]


def test_a_chunked_body_whose_connection_ends_in_the_trailers_is_still_answered(fake_http):
    sent = request("GET", "/v1/models", b"7\r\n" + MODELS + b"\r\n0\r\n", transfer_encoding="chunked")
    (status, _, _), = answers(exchange(fake_http, sent).written)
    assert status == 200


def test_a_body_of_exactly_the_cap_is_read_one_byte_more_is_discarded_to_its_end_and_closes(fake_http):
    exact = MODELS + b" " * (CAP - len(MODELS))
    (status, headers, _), = answers(exchange(fake_http, request("GET", "/v1/models", exact)).written)
    assert status == 200 and "connection" not in headers
    sent = request("GET", "/v1/models", b" " * 65537)  # one 64 KiB read, then 1 byte left
    connection = exchange(fake_http, sent)
    (status, headers, body), = answers(connection.written)
    assert (status, headers["connection"]) == (413, "close")
    assert connection.incoming.consumed == len(sent)  # read to its end, so the client reads the 413


def test_a_content_length_that_is_no_number_is_refused_recorded_without_a_body_and_closes(fake_http):
    sent = request("GET", "/v1/models", MODELS, content_length="abc")
    (status, headers, body), = answers(exchange(fake_http, sent).written)
    assert (status, headers["connection"]) == (400, "close")
    assert message(body) == "Invalid Content-Length header: 'abc' (expected a number of bytes)."
    (recorded,) = fake_http.state.requests()
    assert (recorded.body_bytes, recorded.truncated) == (0, False)


def test_an_empty_body_is_no_body(fake_http):
    (status, _, _), = answers(exchange(fake_http, request("GET", "/v1/models", content_length="0")).written)
    assert status == 200


def test_a_negative_chunk_size_is_refused_at_its_line_never_read_as_the_rest_of_the_connection(fake_http):
    head = request("GET", "/v1/models", transfer_encoding="chunked")
    sent = head + b"-1\r\n" + b" " * (4 * CAP) + b"\r\n0\r\n\r\n"  # int("-1", 16) is -1: read(-1) reads to the end
    connection = exchange(fake_http, sent)
    (status, headers, body), = answers(connection.written)
    assert (status, headers["connection"]) == (400, "close")
    assert connection.incoming.consumed == len(head) + len(b"-1\r\n")  # nothing past the cap is read


@pytest.mark.parametrize("size", [b"0x7", b"+7", b"7_0", b" "])
def test_a_chunk_size_of_anything_but_hexadecimal_digits_is_refused(fake_http, size):
    sent = request("GET", "/v1/models", size + b"\r\n" + MODELS + b"\r\n0\r\n\r\n", transfer_encoding="chunked")
    (status, _, body), = answers(exchange(fake_http, sent).written)
    assert status == 400 and "chunk size" in message(body)
