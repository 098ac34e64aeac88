"""Helpers of the S3 factory self-tests: a factory's fixture function, run and ended as pytest runs it."""

from __future__ import annotations

import pytest


def inner(fixture):
    """The generator function pytest calls for a fixture a factory made."""
    return fixture._get_wrapped_function()


def finish(running) -> None:
    """Run a fixture's teardown as pytest does (``close()`` would skip what follows its ``yield``)."""
    with pytest.raises(StopIteration):
        next(running)
