"""Steps and helpers shared by every feature."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest


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


def run_nested(pytester: pytest.Pytester, test_source: str, *args: str, **env: str | None):
    """Run a small test module in a nested pytest session (in-process) and return its RunResult."""
    pytester.makepyfile(test_nested=test_source)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error::RuntimeWarning\n"
    )
    with environment(**env):
        return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)
