"""The installed distributions read once for all the nested pytest runs of a process.

Each pytest session, nested in-process ones included, reads every installed distribution's metadata three times:
pluggy scans the entry points for plugins, pytest marks the plugins' modules for assertion rewriting and the
header names the plugins' versions. That is about 25 ms of a nested session's 65 ms of fixed cost here (some
1,200 small files read and parsed). While a nested run runs, :func:`remembered` answers
``importlib.metadata.distributions()`` with the distributions read at its first use in the process, each keeping
what it read (nothing is installed during a test run).
"""

from __future__ import annotations

import functools
import importlib.metadata
from contextlib import contextmanager
from typing import Iterator

_read: list[importlib.metadata.Distribution] | None = None


class RememberedDistribution(importlib.metadata.Distribution):
    """An installed distribution whose files are read once: metadata, entry points and file list kept as read."""

    def __init__(self, distribution: importlib.metadata.Distribution) -> None:
        self._distribution = distribution
        self._texts: dict[str, str | None] = {}

    def read_text(self, filename: str) -> str | None:
        if filename not in self._texts:
            self._texts[filename] = self._distribution.read_text(filename)
        return self._texts[filename]

    def locate_file(self, path):
        return self._distribution.locate_file(path)

    @functools.cached_property
    def metadata(self):  # type: ignore[override]
        return self._distribution.metadata

    @functools.cached_property
    def entry_points(self):  # type: ignore[override]
        return self._distribution.entry_points

    @functools.cached_property
    def files(self):  # type: ignore[override]
        return self._distribution.files

    @property
    def _normalized_name(self):  # what importlib.metadata deduplicates distributions by
        return self._distribution._normalized_name


def _distributions(original) -> list[importlib.metadata.Distribution]:
    global _read
    if _read is None:
        _read = [RememberedDistribution(distribution) for distribution in original()]
    return list(_read)


@contextmanager
def remembered() -> Iterator[None]:
    """While the block runs, ``importlib.metadata.distributions()`` (no arguments) gives the remembered ones."""
    original = importlib.metadata.distributions

    def distributions(**kwargs):
        if kwargs:  # a search by name or path: read as usual
            return original(**kwargs)
        return _distributions(original)

    importlib.metadata.distributions = distributions
    try:
        yield
    finally:
        importlib.metadata.distributions = original
