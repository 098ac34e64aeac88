"""Fakes someone else runs, for the OpenAI self-tests: the project's own standalone fake, and a server that only
lists models (an OpenAI-compatible API without the fake's control API)."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def standalone_fake(tmp_path):
    """``python -m narrative_fixtures.services.openai.fake`` on a free port, as someone else would run it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "narrative_fixtures.services.openai.fake", "--port", "0", "--log", str(tmp_path / "fake.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split(" on ")[1].strip()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class _ModelsOnly(BaseHTTPRequestHandler):
    """An OpenAI-compatible server someone else runs, without the fake's control API."""

    def do_GET(self):
        if self.path == "/v1/models":
            body = b'{"object":"list","data":[{"id":"local-llm","object":"model","created":0,"owned_by":"me"}]}'
            self.send_response(200)
        else:
            body = b'{"error":{"message":"not here","type":"invalid_request_error","param":null,"code":null}}'
            self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def models_only_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ModelsOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


KEY = "sk-test-key-for-mocking"  # the fake's fixed key, as the embedded fixtures use it


@pytest.fixture(scope="module")
def server():
    """A fake OpenAI server of this test module's own, in-process."""
    from narrative_fixtures.services.openai.fake import FakeOpenAIServer

    fake = FakeOpenAIServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    """The controller of the module's fake, emptied before and after each test."""
    from narrative_fixtures.services.openai.fake import FakeOpenAI, LocalBackend

    controller = FakeOpenAI(server.url, LocalBackend(server.state), KEY)
    controller.reset()
    yield controller
    controller.reset()


@pytest.fixture
def http(server):
    """A raw HTTP client of the module's fake (the fake key sent), to read the wire JSON itself."""
    import httpx

    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {KEY}"}, timeout=5) as client:
        yield client
