"""A service defined outside the project, as another package would: ``installed/`` is a site folder holding the
``narrative_echo`` package and its ``.dist-info`` (whose ``entry_points.txt`` registers it under
``narrative_fixtures.services``). A pytest run with that folder on ``PYTHONPATH`` has the echo service; no file of
the project names it."""

from __future__ import annotations

import os
from pathlib import Path

SITE = Path(__file__).resolve().parent / "installed"


def install(pytester) -> None:
    """Make the echo package installed for ``pytester``'s subprocess runs (``runpytest_subprocess``)."""
    pytester._monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SITE), os.environ.get("PYTHONPATH")])))
    for variable in ("TEST_ECHO_MODE", "TEST_ECHO_URL", "TEST_ECHO_PREFIX"):
        pytester._monkeypatch.delenv(variable, raising=False)


def echo_spec():
    """The echo service's spec as this process can read it (the package is not installed here)."""
    from .installed.narrative_echo.spec import SPEC

    return SPEC
