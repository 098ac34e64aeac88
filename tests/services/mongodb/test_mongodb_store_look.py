"""The janitor's look into the embedded FerretDB's own SQLite store (services/mongodb/storage.py): what it reads,
that it never writes, that it reads only a store the run can prove is the server's, and the commands it saves (a
nested run counting what its janitor sends). Isolation itself is shown on the embedded server by
test_mongodb_index_isolation.py and test_mongodb_isolation.py, which run in both modes."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid

import pymongo
import pytest

from narrative_fixtures.services.mongodb.storage import Look, StoreReader
from tests.mongodb_support import point_nested_runs_at, serial_run


@pytest.fixture
def store(ferretdb):
    reader = StoreReader.of_server(ferretdb.pid, ferretdb.data_dir)
    assert reader is not None
    yield reader
    reader.close()


@pytest.fixture
def database(ferretdb):
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    db = client[f"look_{uuid.uuid4().hex[:8]}_test"]
    yield db
    client.drop_database(db.name)
    client.close()


# --- what it reads -----------------------------------------------------------------------------------------------


def test_a_database_not_yet_written_has_no_look(store, database):
    assert store.look(database.name) is None


def test_the_look_names_the_collections_and_those_holding_documents(store, database):
    database.notes.insert_one({"text": "kept"})
    database.empty.insert_one({})
    database.empty.delete_many({})
    look = store.look(database.name)
    assert [row[0] for row in look.rows] == ["empty", "notes"]
    assert look.filled == ("notes",)
    database.notes.delete_many({})
    assert store.look(database.name).filled == ()


def test_the_rows_change_with_an_index_a_dropped_collection_or_one_made_again(store, database):
    database.notes.insert_one({})
    first = store.look(database.name).rows
    database.notes.create_index("text", name="by_text")
    indexed = store.look(database.name)
    assert indexed.rows != first and indexed.index_names() == {"notes": ["_id_", "by_text"]}
    database.notes.drop_index("by_text")
    assert store.look(database.name).rows == first  # the same collection, the same indexes again
    database.notes.drop()
    assert store.look(database.name).rows == ()
    database.notes.insert_one({})
    again = store.look(database.name).rows
    assert [row[0] for row in again] == ["notes"] and again != first  # made again: another uuid


def test_a_database_dropped_and_made_again_is_read_from_its_new_file(store, database):
    database.notes.insert_one({})
    assert store.look(database.name).filled == ("notes",)
    database.client.drop_database(database.name)
    assert store.look(database.name) is None
    database.other.insert_one({})
    assert store.look(database.name).filled == ("other",)


def test_the_reader_cannot_write(store, database):
    database.notes.insert_one({})
    store.look(database.name)
    _identity, connection = store._open[database.name]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM _ferretdb_collections")
    assert store.look(database.name).filled == ("notes",)


def test_an_unreadable_row_gives_no_index_names():
    assert Look((("notes", "notes_1", "not json"),), ()).index_names() is None


# --- whose store ----------------------------------------------------------------------------------------------


def test_only_the_store_the_server_s_own_command_line_names_is_read(ferretdb, tmp_path):
    assert StoreReader.of_server(ferretdb.pid, ferretdb.data_dir) is not None
    assert StoreReader.of_server(ferretdb.pid, str(tmp_path)) is None  # another directory
    assert StoreReader.of_server(os.getpid(), ferretdb.data_dir) is None  # another process
    assert StoreReader.of_server(ferretdb.pid, "data") is None  # a relative path (a record without its workdir)
    assert StoreReader.of_server(None, ferretdb.data_dir) is None
    assert StoreReader.of_server(ferretdb.pid, None) is None


def test_the_embedded_server_keeps_its_store_in_its_private_directory_without_an_fsync_per_commit(ferretdb):
    import psutil

    argv = psutil.Process(ferretdb.pid).cmdline()
    assert f"--sqlite-url=file:{ferretdb.data_dir}/?_pragma=synchronous(OFF)" in argv
    state_dir = next(argument.split("=", 1)[1] for argument in argv if argument.startswith("--state-dir="))
    assert os.path.dirname(ferretdb.data_dir) == state_dir  # inside the server's own work dir, deleted at its stop


def test_an_external_server_is_never_looked_into(ferretdb):
    from narrative_fixtures.services.mongodb import PROVIDER
    from tests.services.mongodb.provider_support import config

    external = PROVIDER.connect_external(config(uri=ferretdb.url), serial_run())
    assert external.data_dir is None and StoreReader.of_server(external.pid, external.data_dir) is None


def test_clean_rows_are_remembered_only_when_they_show_the_build_s_indexes():
    def look(*collections):
        rows = tuple((name, f"{name}_t", json.dumps({"indexes": [{"name": index} for index in indexes]}))
                     for name, indexes in collections)
        return Look(rows, ())

    built = {"orders": {"_id_": {}, "by_total": {}}, "notes": None}
    assert look(("orders", ["_id_", "by_total"]), ("notes", ["_id_"])).shows_the_build(built)
    for unclean in (
        look(("orders", ["_id_", "by_total", "extra"]), ("notes", ["_id_"])),  # an index added meanwhile
        look(("orders", ["_id_"])),  # one of the build's dropped
        look(("orders", ["_id_", "by_total"]), ("notes", ["_id_", "app_key"])),  # an index in a collection of no model
        look(("notes", ["_id_"])),  # the model's collection gone
        Look((("orders", "orders_t", "not json"),), ()),  # a row that cannot be read
    ):
        assert not unclean.shows_the_build(built), unclean


# --- the commands it saves (a nested run on its embedded server, every command its clients send recorded) --------

RECORDING_CONFTEST = """
import json
import pymongo.monitoring

SENT = []
CURRENT = ["(collection)"]


class Recorder(pymongo.monitoring.CommandListener):
    def started(self, event):
        if event.database_name.endswith("_test"):
            target = event.command.get(event.command_name)
            SENT.append([CURRENT[0], event.command_name, target if isinstance(target, str) else None])

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


pymongo.monitoring.register(Recorder())


def pytest_runtest_logstart(nodeid):
    CURRENT[0] = nodeid.split("::")[-1]


def pytest_unconfigure(config):
    with open("sent.json", "w") as sent:
        json.dump(SENT, sent)
"""

RECORDED_TESTS = """
import pytest


@pytest.mark.asyncio
async def test_1_makes_the_notes(setup_database):
    await setup_database.notes.insert_one({"text": "a"})


@pytest.mark.asyncio
async def test_2_writes_a_note(setup_database):
    assert await setup_database.notes.count_documents({}) == 0
    await setup_database.notes.insert_one({"text": "b"})


@pytest.mark.asyncio
async def test_3_writes_nothing(setup_database):
    assert await setup_database.notes.count_documents({}) == 0


@pytest.mark.asyncio
async def test_4_writes_nothing_either(setup_database):
    pass
"""

JANITOR_COMMANDS = {"delete", "listIndexes", "listCollections", "dropIndexes"}


def _janitor_commands(project, *settings) -> dict[str, list]:
    """Run the four recorded tests; return, for each, the janitor's commands sent while it ran."""
    project.makeconftest(RECORDING_CONFTEST)
    project.makepyfile(test_recorded=RECORDED_TESTS)
    project.runpytest_subprocess("-p", "no:randomly", *settings).assert_outcomes(passed=4)
    sent = json.loads((project.path / "sent.json").read_text())
    found = {}
    for test, command, target in sent:
        if command in JANITOR_COMMANDS:
            found.setdefault(test, []).append([command, target])
    return found


def test_after_a_test_that_wrote_one_collection_the_janitor_sends_one_delete_and_after_none_nothing(project):
    found = _janitor_commands(point_nested_runs_at(project))
    # test 1 made a collection: test 2's set-up makes the full pass, then the store shows the database as it left it
    assert ["listCollections", None] in found["test_2_writes_a_note"], found
    assert found.get("test_3_writes_nothing") == [["delete", "notes"]], found  # test 2's note, left to this set-up
    assert "test_4_writes_nothing_either" not in found, found


def test_on_an_external_server_the_janitor_asks_over_the_wire_every_time(project, ferretdb):
    found = _janitor_commands(point_nested_runs_at(project, ferretdb.url, f"look_{uuid.uuid4().hex[:6]}_test"))
    for test in ("test_3_writes_nothing", "test_4_writes_nothing_either"):
        assert ["listCollections", None] in found[test] and any(c == "listIndexes" for c, _ in found[test]), found
