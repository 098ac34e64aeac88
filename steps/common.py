"""Steps and helpers shared by every feature (the nested-run helpers live in ``steps.nested``)."""

from __future__ import annotations

import importlib

from steps import step_lookup
from steps.nested import environment, keep_sdk_imports, run_nested  # noqa: F401 - the service steps import them here


class lazy_module:  # noqa: N801 - stands for a module
    """A module imported at its first attribute access: a heavy SDK a step module needs only when its steps run."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's collection probes every module attribute (fixture markers...)
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


def pytest_configure(config) -> None:
    """pytest-bdd's step lookup asks pytest about the step definitions only (see ``steps.step_lookup``)."""
    step_lookup.install()


def pytest_collection_finish(session) -> None:
    """When a selected test runs pytest again in-process (``pytester``), the client libraries are imported now,
    outside any test. pytester drops every module first imported during a test (or a nested run) when it ends: a
    library imported inside would be imported again by the next nested run, while objects made from the first
    copy live on (a cached boto3 session raising the first copy's ClientError, which the second copy's ``except
    ClientError`` does not catch)."""
    if any("pytester" in getattr(item, "fixturenames", ()) for item in session.items):
        keep_sdk_imports()
