"""Helpers of the provider self-tests: the mongodb settings as a run resolves them, and a port nothing listens on."""

from __future__ import annotations

import socket

from narrative_fixtures.core.settings import ServiceConfig
from narrative_fixtures.services.mongodb.spec import SPEC


def config(uri: str | None = None, db: str | None = None, allow_unsafe: str = "false") -> ServiceConfig:
    """The mongodb settings as the run resolves them: ``db`` set by the environment, or its default."""
    values = {"uri": uri, "db": db or "narrative_test", "allow_unsafe": allow_unsafe, "models": None}
    sources = {"uri": "env" if uri else "default", "db": "env" if db else "default"}
    return ServiceConfig(SPEC, "external", values, sources)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
