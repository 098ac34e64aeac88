"""pytest-bdd's step lookup, asking pytest only about the fixture names that can hold the step's definition.

For each step it runs, pytest-bdd (9.0, ``scenario.find_fixturedefs_for_step``) asks pytest for the definitions of
*every* fixture name visible to the test, then keeps those that are step definitions of the step's type whose
parser matches the step: O(steps x fixtures), about 0.5 s of CPU in the acceptance suite (600 steps, ~400 names).
This finder yields the same definitions in the same order: it first narrows the names to those under which some
step definition matching the step is registered at all (anywhere: the index is built from the fixture manager's
registry and kept per step text until a step definition is added), then lets pytest decide, as before, which of
their definitions the test sees. A pytest without the registry layout it reads keeps pytest-bdd's own finder.
"""

from __future__ import annotations

import importlib
import weakref
from typing import Iterable, Iterator

from pytest_bdd import parsers
from pytest_bdd.compat import get_fixture_names, getfixturedefs
from pytest_bdd.steps import StepNamePrefix, step_function_context_registry

_scenario = importlib.import_module("pytest_bdd.scenario")  # the package's name `scenario` is its function
ORIGINAL = _scenario.find_fixturedefs_for_step
STEP_DEFINITION_PREFIX = StepNamePrefix.step_def.value  # pytest-bdd registers every step definition under it
REGISTRIES = ("_arg2node2fixturedefs", "_arg2nodeid2fixturedefs")  # pytest >= 9.2: name -> {node(id): [defs]}


class _StepIndex:
    """One fixture manager's step definitions, by step type: exact texts in a dict, patterns in a list."""

    def __init__(self, fixturemanager, names: list[str], fingerprint: tuple[int, int]) -> None:
        self.fingerprint = fingerprint
        self.order = {name: position for position, name in enumerate(names)}
        self.exact: dict[tuple[str | None, str], set[str]] = {}
        self.patterns: dict[str | None, list[tuple[str, object]]] = {}
        for name in names:
            for definition in _registered(fixturemanager, name):
                context = step_function_context_registry.get(definition.func)
                if context is None:
                    continue
                if type(context.parser) is parsers.string:  # matches its own text only
                    self.exact.setdefault((context.type, context.parser.name), set()).add(name)
                else:
                    self.patterns.setdefault(context.type, []).append((name, context.parser))
        self.names: dict[tuple[str | None, str], tuple[str, ...]] = {}

    def names_for(self, step) -> tuple[str, ...]:
        """The names (in registry order) under which a definition of ``step``'s type matching its text is registered."""
        key = (step.type, step.name)
        found = self.names.get(key)
        if found is None:
            hits = self.exact.get(key, set()) | self.exact.get((None, step.name), set())
            for step_type in (step.type, None):
                for name, parser in self.patterns.get(step_type, ()):
                    if name not in hits and parser.is_matching(step.name):
                        hits.add(name)
            found = self.names[key] = tuple(sorted(hits, key=self.order.__getitem__))
        return found


_indexes: "weakref.WeakKeyDictionary[object, _StepIndex]" = weakref.WeakKeyDictionary()


def _registered(fixturemanager, name: str) -> Iterator[object]:
    """Every definition registered under ``name``, whatever node it belongs to."""
    for attribute in REGISTRIES:
        for definitions in getattr(fixturemanager, attribute).get(name, {}).values():
            yield from definitions


def _fingerprint(fixturemanager, names: list[str]) -> tuple[int, int]:
    """How many step-definition names and definitions are registered: it grows whenever one is added."""
    count = 0
    for attribute in REGISTRIES:
        registry = getattr(fixturemanager, attribute)
        for name in names:
            by_node = registry.get(name)
            if by_node:
                count += sum(map(len, by_node.values()))
    return len(names), count


def _defines(definition, step) -> bool:
    """The original finder's test: a step definition of the step's type whose parser matches the step's text."""
    context = step_function_context_registry.get(definition.func)
    if context is None:
        return False
    if context.type is not None and context.type != step.type:
        return False
    return bool(context.parser.is_matching(step.name))


def _candidate_names(fixturemanager, step) -> tuple[str, ...]:
    names = [name for name in get_fixture_names(fixturemanager=fixturemanager) if name.startswith(STEP_DEFINITION_PREFIX)]
    fingerprint = _fingerprint(fixturemanager, names)
    index = _indexes.get(fixturemanager)
    if index is None or index.fingerprint != fingerprint:  # a step definition was added (a module collected)
        index = _indexes[fixturemanager] = _StepIndex(fixturemanager, names, fingerprint)
    return index.names_for(step)


def find_fixturedefs_for_step(step, fixturemanager, node) -> Iterable[object]:
    """The fixture definitions (of step definitions) that can parse ``step`` and are visible to ``node``."""
    if not all(hasattr(fixturemanager, attribute) for attribute in REGISTRIES):
        yield from ORIGINAL(step, fixturemanager, node)
        return
    for fixturename in _candidate_names(fixturemanager, step):
        for fixturedef in getfixturedefs(fixturemanager, fixturename, node) or []:
            if _defines(fixturedef, step):
                yield fixturedef


def install() -> None:
    """Use this finder for every later step lookup of the process (nested in-process runs included); idempotent,
    and it leaves alone a finder someone else put in pytest-bdd's place."""
    if _scenario.find_fixturedefs_for_step is ORIGINAL:
        _scenario.find_fixturedefs_for_step = find_fixturedefs_for_step
