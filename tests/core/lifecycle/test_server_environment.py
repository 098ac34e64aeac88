"""A server the run starts gets the run's environment, as it was when the run's context was made (configure), not
what a test running meanwhile left in ``os.environ``: a shared server is started in a helper thread while the first
tests run, and a factory's server at a test's first use, and a test may have emptied the environment
(``mock.patch.dict(os.environ, clear=True)``) or pointed PATH elsewhere. Programs are looked for on the run's PATH."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path
from unittest import mock

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import ProvisionContext

WRITE_ENVIRONMENT = (  # a server that writes the environment it was given (whole: renamed into place), then waits
    "import json, os, sys, time; open(sys.argv[1] + '.part', 'w').write(json.dumps(dict(os.environ)));"
    " os.replace(sys.argv[1] + '.part', sys.argv[1]); time.sleep(60)"
)


@pytest.fixture
def run_context(tmp_path, monkeypatch) -> ProvisionContext:
    """A run's context made while ``NARRATIVE_PROBE=the-run`` is set, as the plugin makes it at configure."""
    monkeypatch.setenv("NARRATIVE_PROBE", "the-run")
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, Path("/"))
    return ProvisionContext(settings, "master")


def test_a_server_spawned_while_a_test_has_emptied_the_environment_gets_the_runs(run_context, tmp_path):
    seen = tmp_path / "environment.json"

    def command(port: int, workdir: Path) -> list[str]:
        return [sys.executable, "-c", WRITE_ENVIRONMENT, str(seen)]

    with mock.patch.dict(os.environ, clear=True):
        process = run_context.server_process("redis", command, lambda port: seen.exists(), env={"OWN": "1"}).start()
    try:
        environment = json.loads(seen.read_text())
    finally:
        process.stop()
    assert environment["NARRATIVE_PROBE"] == "the-run"  # the run's, though the test had emptied os.environ
    assert environment["PATH"] == run_context.environment["PATH"] and environment["OWN"] == "1"


def test_a_server_of_the_plugins_own_finds_the_plugin_on_the_runs_python_path(run_context, monkeypatch):
    monkeypatch.setitem(run_context.environment, "PYTHONPATH", "/the/runs/path")
    with mock.patch.dict(os.environ, {"PYTHONPATH": "/a/tests/path"}):
        assert run_context.python_server_env("/plugin/root") == {"PYTHONPATH": "/plugin/root:/the/runs/path"}
    monkeypatch.delitem(run_context.environment, "PYTHONPATH")
    assert run_context.python_server_env("/plugin/root") == {"PYTHONPATH": "/plugin/root"}


def test_redis_server_is_looked_for_on_the_runs_path(run_context, tmp_path, monkeypatch):
    real = shutil.which("redis-server")
    if real is None:  # pragma: no cover - the machines this suite runs on have it (.ci/install)
        pytest.fail("redis-server is not installed: run .ci/install")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    used = tmp_path / "used"
    wrapper = bin_dir / "redis-server"
    wrapper.write_text(f'#!/bin/sh\ntouch "{used}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setitem(run_context.environment, "PATH", f"{bin_dir}:{run_context.environment.get('PATH', '')}")
    from narrative_fixtures.services.redis.provider import PROVIDER

    with mock.patch.dict(os.environ, clear=True):  # its own lookup would find the system's redis-server in /usr/bin
        endpoint, process = PROVIDER.start_embedded(run_context)
    try:
        assert used.exists(), "the redis-server on the run's PATH was not the one started"
        assert PROVIDER.health(endpoint) is None
    finally:
        process.stop()


def test_a_program_missing_from_the_runs_path_is_not_found_on_the_tests(run_context, tmp_path):
    run_context.environment["PATH"] = str(tmp_path)  # nothing there
    assert shutil.which("sh") is not None and run_context.which("sh") is None


def test_a_reusing_run_keeps_to_its_own_state_file_whatever_a_test_left(run_context, tmp_path):
    from narrative_fixtures.core.reuse import STATE_ENV, provision_reused
    from narrative_fixtures.errors import ServiceUnavailable

    run_context.environment[STATE_ENV] = str(tmp_path / "the-runs-state.json")
    looked_in = []

    class Provider:
        def start_embedded(self, context):
            looked_in.append(context.launcher.state.path)
            raise ServiceUnavailable("the state file is all this test asks about")

    with mock.patch.dict(os.environ, clear=True), pytest.raises(ServiceUnavailable):
        provision_reused("redis", Provider(), run_context)
    assert looked_in == [tmp_path / "the-runs-state.json"]
