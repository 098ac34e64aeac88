"""A fixture recording every PyMongo client the plugin makes (its modules import ``MongoClient`` when they need
one), so a test can read the bounds and the name each was given."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def clients_made(monkeypatch) -> list:
    """The ``pymongo.MongoClient`` instances made during the test, in order (still readable once closed)."""
    made = []
    # The module the plugin imports from now: an earlier in-process nested run may have dropped and re-imported it,
    # so a reference taken when this file was imported could be a module nobody imports from any more.
    pymongo = importlib.import_module("pymongo")  # sys.modules' entry, as the plugin's imports get it

    class Recorded(pymongo.MongoClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(pymongo, "MongoClient", Recorded)
    return made
