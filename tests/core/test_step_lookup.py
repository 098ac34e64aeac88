"""steps.step_lookup: pytest-bdd's step lookup narrowed to the step definitions, with the same definitions found."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from pytest_bdd import parsers
from pytest_bdd.steps import StepFunctionContext, step_function_context_registry

from steps import step_lookup

FEATURE = """\
Feature: Lookups
    Background:
        Given a basket with 2 apples

    Scenario: Steps of every kind
        Given a basket with 3 apples
        When I add 4 apples
        And I add "pears" by name
        Then the basket holds a total
        And anything may follow
        And everything is fine
        And the module's own step is used

    Scenario Outline: An outline
        When I add <count> apples
        Then the basket holds a total

        Examples:
            | count |
            | 1     |
            | 5     |
"""

CONFTEST = '''
import pytest
from pytest_bdd import given, parsers, step, then, when


@given(parsers.parse("a basket with {count:d} apples"), target_fixture="basket")
def basket(count):
    return {"apples": count}


@when(parsers.parse("I add {count:d} apples"))
def add(basket, count):
    basket["apples"] += count


@when(parsers.re(r'I add "(?P<fruit>\\w+)" by name'))
def add_named(basket, fruit):
    basket[fruit] = 1


@then("the basket holds a total")
def total(basket):
    assert basket["apples"] > 0


@step("anything may follow")
def anything():
    pass


@step(parsers.parse("{what} is fine"))
def fine(what):
    assert what == "everything"


@then("the module's own step is used")
def overridden():
    raise AssertionError("the test module's definition should win over the conftest's")
'''

TEST_MODULE = '''
from pytest_bdd import scenarios, then

scenarios("lookups.feature")


@then("the module's own step is used")
def overriding():
    pass
'''


class CompareFinders:
    """Nested-run plugin: before each step runs, pytest-bdd's own finder and ours are asked the same question."""

    def __init__(self) -> None:
        self.compared: list[tuple[str, int]] = []
        self.differences: list[str] = []

    def pytest_bdd_before_step(self, request, step) -> None:
        manager, node = request._fixturemanager, request.node
        theirs = list(step_lookup.ORIGINAL(step, manager, node))
        ours = list(step_lookup.find_fixturedefs_for_step(step, manager, node))
        self.compared.append((step.name, len(ours)))
        if ours != theirs:
            self.differences.append(f"{step.name}: {ours} != {theirs}")


def test_every_step_finds_the_same_definitions_in_the_same_order(pytester: pytest.Pytester):
    pytester.makefile(".feature", lookups=FEATURE)
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_lookups=TEST_MODULE)
    compare = CompareFinders()
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", plugins=[compare])
    result.assert_outcomes(passed=3)
    assert compare.differences == []
    assert len(compare.compared) == 14  # 8 steps, then 2 in each of the two examples, each after the background
    found = dict(compare.compared)
    assert found["the module's own step is used"] == 2  # the conftest's and the module's, the module's last
    assert all(count >= 1 for count in found.values()), found


class FakeManager:
    """A fixture manager's registry as pytest 9.2 keeps it (name -> {node: [definitions]}), nothing else."""

    def __init__(self) -> None:
        self._arg2node2fixturedefs: dict[str, dict[object, list]] = {}
        self._arg2nodeid2fixturedefs: dict[str, dict[str, list]] = {}

    def register(self, name: str, definition, node: object = "session") -> None:
        self._arg2node2fixturedefs.setdefault(name, {}).setdefault(node, []).append(definition)

    def getfixturedefs(self, name: str, node: object):
        return [d for definitions in self._arg2node2fixturedefs.get(name, {}).values() for d in definitions] or None


def step_definition(step_type: str | None, parser):
    """A fixture definition whose function pytest-bdd knows as a step definition (as its decorators make them)."""

    def marker():
        return None

    step_function_context_registry[marker] = StepFunctionContext(type=step_type, step_func=marker, parser=parser)
    return SimpleNamespace(func=marker)


def test_a_step_definition_added_after_a_lookup_is_found():
    """The index is made anew when a definition is registered after a lookup (a module collected later)."""
    manager, step = FakeManager(), SimpleNamespace(type="given", name="a late step with 3 parts")
    manager.register("pytestbdd_stepdef_given_other", step_definition("given", parsers.string("another step")))
    assert list(step_lookup.find_fixturedefs_for_step(step, manager, None)) == []
    late = step_definition("given", parsers.parse("a late step with {n:d} parts"))
    manager.register("pytestbdd_stepdef_given_late", late)
    assert list(step_lookup.find_fixturedefs_for_step(step, manager, None)) == [late]
    same_name = step_definition(None, parsers.string("a late step with 3 parts"))  # an existing name, no new one
    manager.register("pytestbdd_stepdef_given_late", same_name, node="module")
    found = list(step_lookup.find_fixturedefs_for_step(step, manager, None))
    assert found == [late, same_name] == list(step_lookup.ORIGINAL(step, manager, None))


def test_a_definition_of_another_type_or_text_is_not_found():
    manager = FakeManager()
    when = step_definition("when", parsers.string("a step"))
    manager.register("pytestbdd_stepdef_when_a step", when)
    manager.register("pytestbdd_stepdef_given_a stop", step_definition("given", parsers.re("a st[o]p")))
    given = SimpleNamespace(type="given", name="a step")
    assert list(step_lookup.find_fixturedefs_for_step(given, manager, None)) == []
    assert list(step_lookup.find_fixturedefs_for_step(SimpleNamespace(type="when", name="a step"), manager, None)) == [when]


def test_install_replaces_only_pytest_bdds_own_finder(monkeypatch: pytest.MonkeyPatch):
    scenario = importlib.import_module("pytest_bdd.scenario")
    monkeypatch.setattr(scenario, "find_fixturedefs_for_step", step_lookup.ORIGINAL)
    step_lookup.install()
    step_lookup.install()
    assert scenario.find_fixturedefs_for_step is step_lookup.find_fixturedefs_for_step

    def someone_elses(step, fixturemanager, node):
        return iter(())

    monkeypatch.setattr(scenario, "find_fixturedefs_for_step", someone_elses)
    step_lookup.install()
    assert scenario.find_fixturedefs_for_step is someone_elses


def test_a_fixture_manager_of_another_layout_gets_pytest_bdds_own_finder(monkeypatch: pytest.MonkeyPatch):
    asked = []
    monkeypatch.setattr(step_lookup, "ORIGINAL", lambda step, manager, node: iter(asked.append(step) or ["theirs"]))
    assert list(step_lookup.find_fixturedefs_for_step("a step", object(), None)) == ["theirs"]
    assert asked == ["a step"]
