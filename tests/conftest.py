"""Helpers for the project's own tests: nested pytest sessions configured like another project would be."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PLAIN_INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
services_log_dir = reports/services
filterwarnings =
    error::RuntimeWarning
"""


XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory set up as another backend project that installed the plugin (no conftest)."""
    pytester.makeini(PLAIN_INI)
    from narrative_fixtures.config import all_settings

    for _service, setting in all_settings():  # every setting the plugin reads, so the host's env cannot leak in
        if setting.env:
            pytester._monkeypatch.delenv(setting.env, raising=False)
    for variable in XDIST_VARIABLES:  # when the outer run is itself under xdist
        pytester._monkeypatch.delenv(variable, raising=False)
    return pytester


@pytest.fixture
def as_a_serial_run(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plugin code called in-process sees a run without xdist workers, even when this run is a worker (``-n 2``):
    the run's provisioning context says ``master`` and the xdist variables are gone, for this test only."""
    from narrative_fixtures.services.common import registry_of

    monkeypatch.setattr(registry_of(request.config).context, "worker_id", "master")
    for variable in XDIST_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    from narrative_fixtures.provisioning import free_port

    return free_port()


def repository_copy(destination: Path) -> Path:
    """Copy the repository's files (tracked and new, not ignored) to ``destination``: a run there writes its own
    reports/, never the real ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def before_short_summary(lines: list[str]) -> list[str]:
    """A nested run's output lines above pytest's "short test summary info", which repeats each error's message
    (cut to the terminal's width, but whole when CI is set): what a test prints once is counted once."""
    for index, line in enumerate(lines):
        if "short test summary info" in line:
            return lines[:index]
    return lines
