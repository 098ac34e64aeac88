"""The janitor's own commands (janitor.py: ``delete`` and ``listIndexes`` sent with ``Database.command``) answer what
PyMongo's helpers would: the same indexes in the same form, the same documents deleted, the same errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pymongo.errors import OperationFailure, WriteError

from narrative_fixtures.services.mongodb.janitor import _delete_every_document, _index_information

from tests.mongodb_support import throwaway_database


@pytest.fixture
def database(mongodb_service):
    with throwaway_database(mongodb_service.url, "janitor_commands") as found:
        yield found


def test_the_indexes_are_those_index_information_gives(database):
    orders = database.orders
    orders.create_index([("customer", 1), ("placed", -1)], name="by_customer")
    orders.create_index("number", unique=True, name="unique_number")
    orders.create_index([("total", -1)], name="big_totals_first")  # (FerretDB has no partial index to try)
    assert _index_information(database, "orders") == orders.index_information()
    assert set(_index_information(database, "orders")) == {"_id_", "by_customer", "unique_number", "big_totals_first"}


def test_a_collection_that_is_not_there_has_no_index(database):
    assert _index_information(database, "never_made") == {} == database.never_made.index_information()


def test_another_command_failure_is_raised(database, monkeypatch):
    def refused(command):
        raise OperationFailure("not authorized", code=13)

    monkeypatch.setattr(database, "command", refused)
    with pytest.raises(OperationFailure, match="not authorized"):
        _index_information(database, "orders")


def test_every_document_goes_and_the_collection_and_its_indexes_stay(database):
    database.notes.insert_many([{"n": n} for n in range(5)])
    database.notes.create_index("n", name="by_n")
    _delete_every_document(database, "notes")
    assert database.notes.count_documents({}) == 0 and "by_n" in database.notes.index_information()
    _delete_every_document(database, "notes")  # nothing left: no error


def test_a_write_error_is_raised_as_delete_many_raises_it():
    reply = {"n": 0, "ok": 1.0, "writeErrors": [{"index": 0, "code": 20, "errmsg": "cannot remove from a capped"}]}
    database = SimpleNamespace(command=lambda command: reply)
    with pytest.raises(WriteError, match="cannot remove from a capped") as raised:
        _delete_every_document(database, "capped")
    assert raised.value.code == 20
