"""Steps and helpers shared by every feature (the nested-run helpers live in ``steps.nested``)."""

from __future__ import annotations

import importlib

from steps.nested import environment, keep_sdk_imports, run_nested  # noqa: F401 - the service steps import them here


class lazy_module:  # noqa: N801 - stands for a module
    """A module imported at its first attribute access: a heavy SDK a step module needs only when its steps run."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's collection probes every module attribute (fixture markers...)
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)
