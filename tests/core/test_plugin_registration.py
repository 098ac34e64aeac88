"""The plugin's own modules (its ``pytest_plugins``) are registered by name when the plugin is, so pytest never
scans the installed distributions' entry points to find them (pytest 9 does that once per listed name)."""

from __future__ import annotations

import pytest
from _pytest.config import PytestPluginManager

from narrative_fixtures import plugin


def test_the_plugins_modules_are_registered_without_an_entry_point_scan(pytester: pytest.Pytester, monkeypatch):
    scans: list[tuple[str, str | None]] = []
    scan = PytestPluginManager.load_setuptools_entrypoints

    def counted(self, group, name=None):
        scans.append((group, name))
        return scan(self, group, name)

    monkeypatch.setattr(PytestPluginManager, "load_setuptools_entrypoints", counted)
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_one="def test_one(service_environment):\n    assert isinstance(service_environment, dict)\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not [name for _, name in scans if name in plugin.pytest_plugins]
    assert plugin.pytest_plugins  # the list the reference generator reads is still there


def test_a_blocked_module_of_the_plugin_stays_blocked(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_one="def test_one(request):\n    request.getfixturevalue('service_environment')\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:narrative_fixtures.services.environment")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*fixture 'service_environment' not found*"])
