"""The raw wire ping and the binary check, called directly against small stand-ins: a server that hangs up, one
that answers garbage, one that never answers, a Unix socket; a binary that is not executable, exits with an error
or reports another version. The real FerretDB's answer is checked by every test that starts one."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from narrative_fixtures.services.mongodb.server import FERRETDB_VERSION, binary_works, ferretdb_binary, ping_problem


def serve_once(listener: socket.socket, reply) -> threading.Thread:
    """Accept one connection, read what the client sent, then ``reply(connection)``."""
    def run() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(1024)
            reply(connection)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock
    sock.close()


def test_a_server_that_hangs_up_cannot_be_pinged(listener):
    port = listener.getsockname()[1]
    thread = serve_once(listener, lambda connection: None)
    assert ping_problem("127.0.0.1", port) == (
        f"cannot connect to 127.0.0.1:{port} (the server closed the connection)")
    thread.join(5)


def test_a_reply_that_is_not_bson_is_no_valid_answer(listener):
    port = listener.getsockname()[1]
    body = b"\x00\x00\x00\x00\x00" + b"\xff" * 11  # flags, section kind 0, then no BSON document
    thread = serve_once(listener, lambda connection: connection.sendall(struct.pack("<iiii", 16 + len(body), 1, 1, 2013) + body))
    assert ping_problem("127.0.0.1", port).startswith("no valid answer to ping (")
    thread.join(5)


def test_a_server_that_never_answers_is_named_with_the_bound(listener):
    port = listener.getsockname()[1]
    done = threading.Event()
    thread = serve_once(listener, lambda connection: done.wait(5))
    assert ping_problem("127.0.0.1", port, timeout=0.2) == "no answer to ping within 0.2 s"
    done.set()
    thread.join(5)


def test_a_unix_socket_path_is_reached_as_one(tmp_path):
    path = tmp_path / "mongodb-27017.sock"
    assert ping_problem(str(path), 27017).startswith(f"cannot connect to {path}:27017 (")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    try:
        thread = serve_once(server, lambda connection: None)
        assert ping_problem(str(path), 27017) == f"cannot connect to {path}:27017 (the server closed the connection)"
        thread.join(5)
    finally:
        server.close()


def test_the_run_s_server_answers_a_raw_ping(mongodb_service):
    assert ping_problem(mongodb_service.host, mongodb_service.port) is None


def _script(path, text: str, mode: int = 0o755):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_only_an_executable_that_reports_this_version_works(tmp_path):
    assert ferretdb_binary(tmp_path) == tmp_path / "ferretdb" / f"v{FERRETDB_VERSION}" / "ferretdb"
    good = f"#!/bin/sh\necho 'version: v{FERRETDB_VERSION}'\n"
    assert binary_works(_script(tmp_path / "good", good)) is True
    assert binary_works(tmp_path / "missing") is False
    assert binary_works(tmp_path) is False  # a directory
    assert binary_works(_script(tmp_path / "not-executable", good, 0o644)) is False
    assert binary_works(_script(tmp_path / "fails", good + "exit 3\n")) is False
    assert binary_works(_script(tmp_path / "other", "#!/bin/sh\necho 'version: v1.24.1'\n")) is False
    assert binary_works(_script(tmp_path / "stderr", f"#!/bin/sh\necho 'version: v{FERRETDB_VERSION}' >&2\n")) is False


class TrickleSocket:
    """A connected socket whose peer's reply arrives ten bytes at a time, whatever the reader asks for."""

    def __init__(self, reply: bytes):
        self.reply, self.sent = reply, b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, size: int) -> bytes:
        chunk, self.reply = self.reply[:min(size, 10)], self.reply[min(size, 10):]
        return chunk


def test_a_reply_that_arrives_in_pieces_is_read_whole(monkeypatch):
    import bson

    from narrative_fixtures.services.mongodb import server

    body = b"\x00\x00\x00\x00" + b"\x00" + bson.encode({"ok": 1.0})
    reply = struct.pack("<iiii", 16 + len(body), 7, 1, 2013) + body
    sockets = []
    monkeypatch.setattr(server, "_connect", lambda host, port, timeout: sockets.append(TrickleSocket(reply))
                        or sockets[-1])
    assert ping_problem("127.0.0.1", 1) is None
    assert sockets[0].reply == b"", "the reply was read to its last byte, and no further"
    assert bson.decode(sockets[0].sent[21:]) == {"ping": 1, "$db": "admin"}


def test_a_silent_unix_socket_server_is_reported_within_the_bound(tmp_path):
    path = tmp_path / "mongodb-27018.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)  # accepted by the kernel, never answered
    try:
        assert ping_problem(str(path), 27018, timeout=0.2) == "no answer to ping within 0.2 s"
    finally:
        server.close()


def test_a_file_that_cannot_be_executed_is_not_a_working_binary(tmp_path):
    assert binary_works(_script(tmp_path / "garbage", "\x7fnot an executable format\n")) is False
