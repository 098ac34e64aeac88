"""ThreadServer, the generic in-process server the S3 variant measurement and in-process fakes use."""

from __future__ import annotations

import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from narrative_fixtures import provisioning
from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.provisioning import LOOPBACK, ThreadServer, port_accepts


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=0.5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read() == b"hello"
    except OSError:
        return False
    finally:
        connection.close()


def test_serves_on_a_kernel_chosen_port_until_stopped():
    server = ThreadServer("hello", lambda host, port: ThreadingHTTPServer((host, port), Hello), _answers,
                          timeout=5, setting="TEST_HELLO_MODE").start()
    port = server.port
    assert port and server.url == f"http://{LOOPBACK}:{port}"
    assert server.started_in is not None and server.alive()
    assert server in provisioning._LIVE  # stop_all() (atexit, signals) reaches it too
    assert _answers(port)
    server.stop()
    server.stop()  # idempotent
    assert not server.alive() and not port_accepts(LOOPBACK, port)
    assert server not in provisioning._LIVE


def test_a_server_that_never_gets_ready_is_stopped_and_reported():
    server = ThreadServer("mute", lambda host, port: ThreadingHTTPServer((host, port), Hello), lambda port: False,
                          timeout=0.2, setting="TEST_MUTE_MODE")
    with pytest.raises(ServiceUnavailable, match="mute .in-process. did not become ready within 0.2s"):
        server.start()
    assert not server.alive() and not port_accepts(LOOPBACK, server.port)
