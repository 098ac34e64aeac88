"""steps.common / steps.nested: the client libraries a test with a pytester, or a nested run, imports outlive it.

pytester drops every module first imported while it lives. The acceptance steps ask for pytester from a step
(``request.getfixturevalue``), which the old collection-time check (``"pytester" in item.fixturenames``) never saw:
the SDKs were imported inside each such test and dropped after it (the OpenAI SDK, aiohttp and Beanie imported
four times in one acceptance run, ~1.5 s). Then every SDK was imported before any pytester was made, in every
xdist worker, whether or not its tests used it (the OpenAI SDK's 0.5-1.3 CPU-s); now pytester keeps the standard
library's and the installed distributions' modules, whoever imported them first.
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


NESTED_IMPORTS = """
import colorsys, pathlib

def test_imports_a_library():
    pathlib.Path("imported").write_text(str(id(colorsys)))
"""


def test_a_library_a_nested_run_imports_first_stays_imported_and_its_own_modules_do_not(pytester, monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # a standard-library module nothing here imports
    result = steps.nested.run_nested(pytester, NESTED_IMPORTS)
    result.assert_outcomes(passed=1)
    assert id(sys.modules["colorsys"]) == int((pytester.path / "imported").read_text()), "imported a second time"
    assert "test_nested" not in sys.modules, "the nested run's own test module outlived it"


def test_a_pytester_asked_for_from_a_step_keeps_the_libraries_imported_while_it_lives(request):
    pytester = request.getfixturevalue("pytester")  # as the graceful-skip steps do
    keeps = pytester._sys_modules_snapshot._SysModulesSnapshot__preserve
    import colorsys  # noqa: F401 - a library module
    (pytester.path / "own_module.py").write_text("")
    sys.path.insert(0, str(pytester.path))
    try:
        import own_module  # noqa: F401 - a module of the pytester's own directory
    finally:
        sys.path.remove(str(pytester.path))
    assert keeps("colorsys") and keeps("pytest") and not keeps("own_module")
    assert steps.nested.keep_libraries_imported() is True
    before = set(sys.modules)
    steps.nested.keep_sdk_imports()  # nothing to import beforehand: pytester keeps them
    assert set(sys.modules) == before


def test_a_nested_run_loads_neither_peer_plugin(pytester: pytest.Pytester):
    """pytest-redis / pytest-mongo stay off in a nested run, as in this project's ini: their mirakuru would register
    an exit handler in this interpreter that SIGKILLs processes whose mark contains its pid."""
    result = steps.nested.run_nested(pytester, "def test_one():\n    pass\n")
    result.assert_outcomes(passed=1)
    plugins = next(line for line in result.outlines if line.startswith("plugins:"))
    assert "bdd-" in plugins, plugins  # the header names the installed plugins that load
    assert "redis-" not in plugins and "mongo-" not in plugins, plugins
