"""A fixture recording every PyMongo client the plugin makes (its modules import ``MongoClient`` when they need
one), so a test can read the bounds and the name each was given."""

from __future__ import annotations

import pymongo
import pytest


@pytest.fixture
def clients_made(monkeypatch) -> list:
    """The ``pymongo.MongoClient`` instances made during the test, in order (still readable once closed)."""
    made = []

    class Recorded(pymongo.MongoClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(pymongo, "MongoClient", Recorded)
    return made
