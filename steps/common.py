"""Steps and helpers shared by every feature."""

from __future__ import annotations

import importlib
import os
from contextlib import contextmanager

import pytest

from narrative_fixtures.core.catalog import service_specs


class lazy_module:  # noqa: N801 - stands for a module
    """A module imported at its first attribute access: a heavy SDK a step module needs only when its steps run."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):  # pytest's collection probes every module attribute (fixture markers...)
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


@contextmanager
def environment(**values: str | None):
    """Temporarily set (or, with None, unset) environment variables for a nested pytest run."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The client libraries the plugin's fixtures import lazily. pytester's in-process runs drop every module first
# imported during the nested run, so each nested run would import them again (~0.3-1 s each): import them once.
SDK_MODULES = tuple(name for spec in service_specs().values() for name in spec.sdk_modules)


def keep_sdk_imports() -> None:
    """Import the fixtures' client libraries in this (outer) process, so nested in-process runs reuse them."""
    for name in SDK_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - an SDK this installation lacks: its fixtures skip on their own
            pass


def run_nested(pytester: pytest.Pytester, test_source: str, *args: str, **env: str | None):
    """Run a small test module in a nested pytest session (in-process) and return its RunResult."""
    keep_sdk_imports()
    pytester.makepyfile(test_nested=test_source)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error::RuntimeWarning\n"
    )
    with environment(**env):
        return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)
