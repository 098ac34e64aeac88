"""steps.common / steps.nested: the client libraries are imported before a test's pytester exists, so they outlive it.

pytester drops every module first imported while it lives. The acceptance steps ask for pytester from a step
(``request.getfixturevalue``), which the old collection-time check (``"pytester" in item.fixturenames``) never saw:
the SDKs were imported inside each such test and dropped after it (the OpenAI SDK, aiohttp and Beanie imported
four times in one acceptance run, ~1.5 s).
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

import steps.common
import steps.nested


def test_the_libraries_are_imported_when_a_pytester_is_about_to_be_made(monkeypatch: pytest.MonkeyPatch):
    calls = []
    monkeypatch.setattr(steps.common, "keep_sdk_imports", lambda: calls.append("kept"))
    steps.common.pytest_fixture_setup(SimpleNamespace(argname="tmp_path"), request=None)
    assert calls == []
    steps.common.pytest_fixture_setup(SimpleNamespace(argname="pytester"), request=None)
    assert calls == ["kept"]


def test_a_pytester_asked_for_from_a_step_finds_the_libraries_already_imported(request: pytest.FixtureRequest):
    request.getfixturevalue("pytester")  # as the graceful-skip steps do
    missing = [name for name in steps.nested.SDK_MODULES if name not in sys.modules]
    assert missing == [], f"imported after the pytester's snapshot (dropped when the test ends): {missing}"


def test_a_nested_run_loads_neither_peer_plugin(pytester: pytest.Pytester):
    """pytest-redis / pytest-mongo stay off in a nested run, as in this project's ini: their mirakuru would register
    an exit handler in this interpreter that SIGKILLs processes whose mark contains its pid."""
    result = steps.nested.run_nested(pytester, "def test_one():\n    pass\n")
    result.assert_outcomes(passed=1)
    plugins = next(line for line in result.outlines if line.startswith("plugins:"))
    assert "bdd-" in plugins, plugins  # the header names the installed plugins that load
    assert "redis-" not in plugins and "mongo-" not in plugins, plugins
