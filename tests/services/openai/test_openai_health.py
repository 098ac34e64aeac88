"""Case 9 for OpenAI: ``OpenAIProvider.health(endpoint)`` says within ~0.5 s whether the fake still serves.

None when it does; otherwise a short reason. Embedded: whether the in-process server thread is alive (no socket).
External: a GET with a 0.3 s bound, so a frozen (SIGSTOP) or dead fake is reported at once instead of costing each
later test the client's timeout. It never raises. The bound is asserted on the socket waits the check allowed
itself, not with a clock (bench/timing.py has the seconds).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import Endpoint, ProvisionContext
from narrative_fixtures.services.openai import OpenAIProvider
from narrative_fixtures.services.openai.fake import FakeOpenAIServer
from narrative_fixtures.services.openai.provider import HEALTH_TIMEOUT_S
from tests.bounded_waits import socket_waits
from tests.conftest import closed_port


@pytest.fixture
def health(monkeypatch):
    """``health(provider, endpoint)`` -> (reason, the SocketWaits of that one check)."""

    def check(provider: OpenAIProvider, endpoint: Endpoint):
        with socket_waits(monkeypatch) as waits:
            reason = provider.health(endpoint)
        return reason, waits
    return check


def external(url: str) -> Endpoint:
    return Endpoint("openai", "external", url, "narrative-fake-openai", "1.0", {"scriptable": True})


def test_an_embedded_fake_is_healthy_until_its_thread_stops(tmp_path, health):
    provider = OpenAIProvider()
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path)}, Path("/"))
    endpoint, fake = provider.start_embedded(ProvisionContext(settings, "master"))
    try:
        assert health(provider, endpoint)[0] is None
    finally:
        fake.stop()
    reason, waits = health(provider, endpoint)
    assert reason == "the in-process fake's server thread has stopped"
    assert waits.connects == [], "the thread's state is the answer: no request"


def test_a_serving_external_fake_is_healthy_whatever_it_answers(health):
    fake = FakeOpenAIServer().start()
    try:
        reason, waits = health(OpenAIProvider(), external(fake.url))  # 401 without a key: still an answer
        assert reason is None and len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S), waits
    finally:
        fake.stop()


def test_a_dead_external_fake_is_reported_at_once(health):
    reason, waits = health(OpenAIProvider(), external(f"http://127.0.0.1:{closed_port()}/v1"))
    assert reason == "GET /v1/models failed: Connection refused"
    assert len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S), waits  # the refusal is the answer


def test_a_listener_that_never_answers_is_reported_within_the_bound(health):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel accepts the connection; nobody ever reads or answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        reason, waits = health(OpenAIProvider(), external(url))
    assert reason == "no answer to GET /v1/models within 0.3 s"
    assert waits.timeouts[0] == HEALTH_TIMEOUT_S and waits.bounded_by(HEALTH_TIMEOUT_S), waits  # waited, bounded


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP is POSIX")
def test_a_frozen_standalone_fake_is_reported_within_the_bound(tmp_path, health):
    process = subprocess.Popen(
        [sys.executable, "-m", "narrative_fixtures.services.openai.fake", "--port", "0", "--log", str(tmp_path / "f.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = external(process.stdout.readline().split(" on ")[1].strip())
        provider = OpenAIProvider()
        assert provider.health(endpoint) is None
        os.kill(process.pid, signal.SIGSTOP)
        try:
            reasons = [health(provider, endpoint) for _ in range(3)]
        finally:
            os.kill(process.pid, signal.SIGCONT)
        assert [reason for reason, _ in reasons] == ["no answer to GET /v1/models within 0.3 s"] * 3
        assert all(len(waits.connects) == 1 and waits.bounded_by(HEALTH_TIMEOUT_S) for _, waits in reasons), reasons
        assert provider.health(endpoint) is None, "healthy again once it runs"
    finally:
        process.terminate()
        process.wait(timeout=10)
