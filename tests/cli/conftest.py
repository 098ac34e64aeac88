"""Helpers for the ``narrative-services`` self-tests: a private state file per test, the command run as a user runs
it, and a finalizer that stops whatever a test left running (and checks that nothing is left)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from narrative_fixtures.core.reuse import STATE_ENV, State

ROOT = Path(__file__).resolve().parents[2]


def command() -> list[str]:
    """The console script beside this interpreter (as installed), else ``python -m narrative_fixtures.cli``."""
    script = Path(sys.executable).with_name("narrative-services")
    return [str(script)] if script.exists() else [sys.executable, "-m", "narrative_fixtures.cli"]


def servers_in(folder: Path) -> list[psutil.Process]:
    """The live processes working in ``folder`` (the detached servers of one state file)."""
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        cwd = process.info.get("cwd") or ""
        if cwd.startswith(str(folder)) and process.info.get("status") != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


class Services:
    """``narrative-services`` with this test's private state file."""

    def __init__(self, state_file: Path) -> None:
        self.state = State(state_file)
        self.env = {**os.environ, STATE_ENV: str(state_file)}

    def __call__(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run([*command(), *args], env=self.env, capture_output=True, text=True, timeout=240, cwd=cwd)
        if check and done.returncode != 0:
            pytest.fail(f"narrative-services {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done

    def variables(self, *args: str) -> dict[str, str]:
        """What ``env`` prints, parsed (``export KEY=value`` lines, shell-quoted)."""
        import shlex

        found = {}
        for line in self(*args).stdout.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            found[key] = shlex.split(value)[0] if value else ""
        return found

    def pids(self) -> dict[str, int]:
        return {name: int(record["pid"]) for name, record in self.state.read().items()}

    def servers(self) -> list[psutil.Process]:
        return servers_in(self.state.folder)


@pytest.fixture
def services(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """``narrative-services`` on a private state file (also set for nested runs); ``down`` runs at the end and no
    server may be left."""
    state_file = tmp_path_factory.mktemp("state") / "services.json"
    monkeypatch.setenv(STATE_ENV, str(state_file))
    runner = Services(state_file)
    yield runner
    runner("down", check=False)
    left = runner.servers()
    for process in left:  # never leave a detached server behind, even when down itself is broken
        process.kill()
    assert not left, f"narrative-services down left {left}"
