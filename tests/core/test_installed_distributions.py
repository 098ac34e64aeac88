"""steps.installed_distributions: nested runs read the installed distributions once, and see the same."""

from __future__ import annotations

import importlib.metadata

import pytest

from steps import installed_distributions


def _described(distributions) -> list[tuple]:
    return sorted(
        (
            d.metadata["Name"],
            d.version,
            sorted((ep.group, ep.name, ep.value) for ep in d.entry_points),
            len(d.files or []),
            d.read_text("direct_url.json"),
            d._normalized_name,
        )
        for d in distributions
    )


def test_the_remembered_distributions_describe_what_is_installed():
    plain = _described(importlib.metadata.distributions())
    with installed_distributions.remembered():
        remembered = list(importlib.metadata.distributions())
        again = list(importlib.metadata.distributions())
    assert remembered and all(isinstance(d, installed_distributions.RememberedDistribution) for d in remembered)
    assert [id(d) for d in again] == [id(d) for d in remembered]  # read once, then kept
    assert _described(remembered) == plain
    assert not isinstance(next(iter(importlib.metadata.distributions())), installed_distributions.RememberedDistribution)


def test_a_search_by_name_is_answered_as_usual():
    with installed_distributions.remembered():
        found = list(importlib.metadata.distributions(name="pytest"))
    assert [d.metadata["Name"] for d in found] == ["pytest"]
    assert not isinstance(found[0], installed_distributions.RememberedDistribution)


def test_the_usual_reading_comes_back_when_the_block_raises():
    original = importlib.metadata.distributions
    with pytest.raises(RuntimeError), installed_distributions.remembered():
        raise RuntimeError("the nested run failed")
    assert importlib.metadata.distributions is original


def test_a_nested_run_loads_the_same_plugins_and_prints_the_same_header(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_one="def test_one():\n    pass\n")

    def header(result: pytest.RunResult) -> list[str]:
        return [line for line in result.outlines if not line.startswith("=") or "passed" not in line]

    plain = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    with installed_distributions.remembered():
        remembered = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
    remembered.assert_outcomes(passed=1)
    plugins = [line for line in header(remembered) if line.startswith("plugins:")]
    assert len(plugins) == 1 and "bdd-" in plugins[0] and "xdist-" in plugins[0], plugins  # entry points loaded
    assert header(remembered) == header(plain)


def test_the_acceptance_suite_collects_with_the_distributions_read_once(request: pytest.FixtureRequest):
    """The root conftest's collection wrapper: pytest 9 scans every distribution's entry points for each
    ``pytest_plugins`` name a test module lists; while the suite collects, they are read once."""
    from pathlib import Path

    root_conftest = Path(request.config.rootpath, "conftest.py")
    suite = next(plugin for plugin in request.config.pluginmanager.get_plugins()
                 if getattr(plugin, "__file__", None) == str(root_conftest))
    original = importlib.metadata.distributions
    collecting = suite.pytest_collection(request.session)
    next(collecting)
    try:
        first, again = list(importlib.metadata.distributions()), list(importlib.metadata.distributions())
        assert first and all(isinstance(d, installed_distributions.RememberedDistribution) for d in first)
        assert [id(d) for d in again] == [id(d) for d in first]
    finally:
        with pytest.raises(StopIteration):
            collecting.send(None)
    assert importlib.metadata.distributions is original
