"""How the echo service is started (embedded: the server script as a subprocess) or reached (external)."""

from __future__ import annotations

import sys
from pathlib import Path

from narrative_fixtures.core.network import LOOPBACK
from narrative_fixtures.core.registry import Endpoint, ProvisionContext
from narrative_fixtures.errors import ServiceUnavailable

from .client import EchoClient

SERVER = str(Path(__file__).with_name("server.py"))


def _banner(url: str) -> str:
    client = EchoClient(url)
    try:
        if not client.banner.startswith("narrative-echo "):
            raise OSError(f"not an echo server (greeting {client.banner[:40]!r})")
        return client.banner
    finally:
        client.close()


def _answers(port: int) -> bool:
    try:
        _banner(f"echo://{LOOPBACK}:{port}")
    except OSError:
        return False
    return True


class EchoProvider:
    name = "echo"

    def start_embedded(self, context: ProvisionContext):
        prefix = context.settings["echo"]["prefix"] or ""
        process = context.server_process(
            "echo", lambda port, workdir: [sys.executable, SERVER, str(port), prefix], _answers
        ).start()
        url = f"echo://{LOOPBACK}:{process.port}"
        _name, version = _banner(url).split()
        return Endpoint("echo", "embedded", url, "narrative-echo", version, {"pid": process.pid}, process.started_in), process

    def connect_external(self, config, context: ProvisionContext) -> Endpoint:
        url = config["url"]
        try:
            name, version = _banner(url).split()
        except (OSError, ValueError) as error:
            raise ServiceUnavailable(f"cannot reach the echo server at TEST_ECHO_URL={url} ({error})") from None
        return Endpoint("echo", "external", url, name, version, {})

    def health(self, endpoint: Endpoint) -> str | None:
        try:
            _banner(endpoint.url)
        except OSError as error:
            return f"no echo ({error})"
        return None


PROVIDER = EchoProvider()
