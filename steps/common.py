"""Steps and helpers shared by every feature (the nested-run helpers live in ``steps.nested``)."""

from __future__ import annotations

import importlib

import pytest

from steps import step_lookup
from steps.nested import environment, run_nested  # noqa: F401 - the service steps import them here
from steps.nested import keep_libraries_imported, keep_sdk_imports


class lazy_module:  # noqa: N801 - stands for a module
    """A module imported at its first attribute access: a heavy SDK a step module needs only when its steps run."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's collection probes every module attribute (fixture markers...)
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


def pytest_configure(config) -> None:
    """pytest-bdd's step lookup asks pytest about the step definitions only (see ``steps.step_lookup``); pytester
    keeps the libraries a nested run imports (see ``steps.nested.keep_libraries_imported``)."""
    step_lookup.install()
    keep_libraries_imported()


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef, request) -> None:
    """Before a test's ``pytester`` is made, where pytester could not be told to keep the libraries imported while
    it lives, the client libraries are imported outside its reach (``steps.nested.keep_sdk_imports``). A test that
    asks for pytester from a step (``request.getfixturevalue``) is covered as well as one that names it."""
    if fixturedef.argname == "pytester":
        keep_sdk_imports()
