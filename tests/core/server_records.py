"""Helpers for self-tests that watch the servers a nested run starts: a fixture that records each one, and liveness."""

from __future__ import annotations

import json
import os
from pathlib import Path

# A conftest for a nested run: the ``record`` fixture appends the run's Redis server (pid, workdir, port) to the file
# named by RECORD_TO, so the outer test can check that process and folder after the run.
RECORD_PIDS = """
import json, os, pytest
from narrative_fixtures.services.common import registry_of

@pytest.fixture
def record(request, redis_service):
    server = registry_of(request.config).owned("redis")
    with open(os.environ["RECORD_TO"], "a") as out:
        out.write(json.dumps({"pid": server.pid, "workdir": str(server.workdir), "port": server.port}) + "\\n")
    return server
"""


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie not yet reaped by its parent is not alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def records(path: Path) -> list[dict]:
    """The servers a nested run recorded (one JSON object a line)."""
    return [json.loads(line) for line in path.read_text().splitlines()]
