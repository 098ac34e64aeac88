"""The raw RESP probes, against a scripted socket (no server, no clock): what they send, how long each socket may
wait, and how they read every kind of answer: PONG in pieces, a refusal, a closed connection, something not Redis."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field

import pytest

from narrative_fixtures.provisioning import LOOPBACK
from narrative_fixtures.services.redis import ping


@dataclass
class ScriptedSocket:
    """A connection whose peer answers ``chunks`` in order (then stays silent: a timeout); records what it got."""

    chunks: list[bytes]
    sent: bytes = b""
    timeouts: list[float | None] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def settimeout(self, value) -> None:
        self.timeouts.append(value)

    def recv(self, size: int) -> bytes:
        self.reads.append(size)
        if not self.chunks:
            raise socket.timeout("timed out")
        chunk = self.chunks.pop(0)
        if len(chunk) > size:
            self.chunks.insert(0, chunk[size:])
        return chunk[:size]


@dataclass
class Connections:
    """``socket.create_connection`` as the probes see it: each call records (address, timeout) and gets the socket."""

    sock: ScriptedSocket
    made: list[tuple[object, object]] = field(default_factory=list)
    error: OSError | None = None

    def __call__(self, address, timeout=socket.getdefaulttimeout(), *args, **kwargs):
        self.made.append((address, timeout))
        if self.error is not None:
            raise self.error
        return self.sock


@pytest.fixture
def peer(monkeypatch):
    """``peer(*chunks)`` -> the Connections every probe in the test reaches, answering ``chunks``."""

    def script(*chunks: bytes, error: OSError | None = None) -> Connections:
        connections = Connections(ScriptedSocket(list(chunks)), error=error)
        monkeypatch.setattr(ping.socket, "create_connection", connections)
        return connections

    return script


class Clock:
    """``time`` for ping_problem: monotonic() returns ``start`` at first, then ``later`` at every further call."""

    def __init__(self, start: float, later: float):
        self.values = [start]
        self.later = later

    def monotonic(self) -> float:
        return self.values.pop(0) if self.values else self.later


# --- resp_ping: is our own server ready? -----------------------------------------------------------------------


def test_readiness_sends_the_password_then_a_ping_on_a_bounded_connection(peer):
    connections = peer(b"+OK\r\n+PONG\r\n")
    assert ping.resp_ping(6390, "s3cret") is True
    assert connections.sock.sent == b"AUTH s3cret\r\nPING\r\n"
    (address, timeout), = connections.made
    assert address == (LOOPBACK, 6390)
    assert timeout is not None and 0 < timeout <= 0.5, "a probe repeated until ready must never block"


def test_readiness_reads_a_pong_that_comes_in_pieces(peer):
    peer(b"+OK\r\n+PO", b"NG\r\n")
    assert ping.resp_ping(6390, "pw") is True


def test_a_refused_password_is_not_ready_even_when_ping_is_answered(peer):
    peer(b"-ERR AUTH <password> called without any password configured\r\n+PONG\r\n")
    assert ping.resp_ping(6390, "pw") is False


def test_a_refusal_after_a_first_piece_is_not_ready(peer):
    peer(b"-WRONGPASS invalid username-password pair\r\n")
    assert ping.resp_ping(6390, "pw") is False


def test_a_connection_closed_without_an_answer_is_not_ready(peer):
    peer(b"")
    assert ping.resp_ping(6390, "pw") is False


def test_256_bytes_of_something_else_are_not_a_pong(peer):
    """A babbling peer is read up to 256 bytes, never longer, and is not taken for a ready Redis."""
    connections = peer(b"x" * 256, b"+PONG\r\n")
    assert ping.resp_ping(6390, "pw") is False
    assert connections.sock.chunks == [b"+PONG\r\n"], "stopped reading at 256 bytes"


def test_a_server_that_does_not_answer_is_not_ready(peer):
    peer()
    assert ping.resp_ping(6390, "pw") is False


# --- ping_problem: does a server (someone else's, maybe) answer? ------------------------------------------------


def test_health_pings_the_url_s_host_and_port_without_a_password(peer):
    connections = peer(b"+PONG\r\n")
    assert ping.ping_problem("redis://:pw@cache.example:6390/2", timeout=0.3) is None
    assert connections.made == [(("cache.example", 6390), 0.3)]
    assert connections.sock.sent.upper() == b"PING\r\n"


def test_health_pings_port_6379_when_the_url_names_none(peer):
    connections = peer(b"-NOAUTH Authentication required.\r\n")
    assert ping.ping_problem("redis://cache.example") is None
    assert connections.made[0][0] == ("cache.example", 6379)


def test_health_reads_an_answer_that_comes_in_pieces(peer):
    peer(b"+PO", b"NG\r\n")
    assert ping.ping_problem("redis://cache.example:6390") is None


def test_something_that_is_not_redis_is_named_with_the_start_of_its_answer(peer):
    answer = b"HTTP/1.1 400 Bad Request, this port serves the web, not Redis\r\n"
    peer(answer)
    assert ping.ping_problem("redis://cache.example:6390") == (
        f"cache.example:6390 answered PING with {answer[:40]!r}, not as Redis does"
    )


def test_a_refused_connection_is_named_by_its_reason(peer):
    peer(error=ConnectionRefusedError(111, "Connection refused"))
    assert ping.ping_problem("redis://cache.example:6390") == "cache.example:6390: Connection refused"


def test_no_time_left_at_a_read_is_no_answer(peer, monkeypatch):
    monkeypatch.setattr(ping, "time", Clock(100.0, 101.0))
    peer(b"+PONG\r\n")
    assert ping.ping_problem("redis://cache.example:6390", timeout=1.0) == (
        "no answer to PING from cache.example:6390 within 1 s"
    )


def test_each_read_waits_only_what_is_left_of_the_bound(peer, monkeypatch):
    monkeypatch.setattr(ping, "time", Clock(100.0, 100.25))
    connections = peer(b"+PONG\r\n")
    assert ping.ping_problem("redis://cache.example:6390", timeout=1.0) is None
    assert connections.sock.timeouts == [0.75]


class FakeTLS:
    """``ssl.create_default_context()``'s context: records how it was set up and what it wrapped."""

    def __init__(self):
        self.check_hostname, self.verify_mode, self.wrapped = True, ssl.CERT_REQUIRED, []

    def wrap_socket(self, sock, server_hostname=None):
        self.wrapped.append((sock, server_hostname))
        return sock


def test_a_tls_url_is_pinged_over_tls_checking_liveness_only(peer, monkeypatch):
    context = FakeTLS()
    monkeypatch.setattr(ping.ssl, "create_default_context", lambda: context)
    monkeypatch.setattr(ping, "time", Clock(100.0, 100.25))
    connections = peer(b"-NOAUTH Authentication required.\r\n")
    assert ping.ping_problem("rediss://cache.example:6390", timeout=1.0) is None
    assert context.wrapped == [(connections.sock, "cache.example")]
    assert (context.check_hostname, context.verify_mode) == (False, ssl.CERT_NONE), "no secret is sent"
    assert connections.sock.timeouts == [0.75, 0.75], "the handshake too waits only what is left"


def test_a_plain_url_is_not_wrapped_in_tls(peer, monkeypatch):
    context = FakeTLS()
    monkeypatch.setattr(ping.ssl, "create_default_context", lambda: context)
    peer(b"+PONG\r\n")
    assert ping.ping_problem("redis://cache.example:6390") is None
    assert context.wrapped == []
