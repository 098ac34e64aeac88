"""The fidelity listener in this very run: an application's client talks to the run's server and the guard's
findings are taken straight from it (``GUARD.take()``, so no warning is left for the test). On the embedded
FerretDB each difference is one line; MongoDB itself is no stand-in and gets none. The nested runs of
test_mongodb_fidelity.py show the warnings as users meet them; the mutation run cannot see into those."""

from __future__ import annotations

import sys
import types

import pymongo
import pytest
from pymongo.errors import OperationFailure

from narrative_fixtures.services.mongodb import fidelity
from narrative_fixtures.services.mongodb.fidelity import GUARD, TABLE, finding


@pytest.fixture
def app_db(request, mongodb_service):
    """Opens an application's own client on the run's test database, in the test itself (the mutation run counts
    what a test's body calls); the findings until then are set aside, the client is closed after the test.

    The client is given a listener of this module's copy: the run registers one when PyMongo is imported, but a
    run that imports the plugin afresh (the mutation run does, per session) keeps the first copy's listener."""
    clients = []

    def open_database():
        listener = fidelity._make_listener(pymongo.monitoring)  # its findings and the run's are the same lines
        # A nested in-process run on the same server (features/mongodb.feature has one) unwatches its address when
        # it ends, the outer run's watch with it (core.fidelity.StandInWatch.unwatch, reported): watched again.
        fidelity.watch(request.config, mongodb_service)
        client = pymongo.MongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000, event_listeners=[listener])
        clients.append(client)
        database = client[mongodb_service.database]
        database.fidelity_items.delete_many({})
        GUARD.take()
        return database

    yield open_database
    for client in clients:
        client[mongodb_service.database].fidelity_items.delete_many({})
        client.close()
    GUARD.take()


def expected(request, mongodb_service, *operations: str) -> list[tuple[str, str]]:
    """What the guard holds for ``operations`` on this run's server: a line each on a watched FerretDB."""
    mode = fidelity.mode_of(request.config)
    if mongodb_service.backend != "FerretDB" or mode == "off":
        return []
    stand_in = f"{mongodb_service.backend} {mongodb_service.version}"
    rows = {difference.operation: difference for difference in TABLE.differences}
    return [(mode, finding(rows[operation], stand_in)) for operation in operations]


def test_a_group_with_several_accumulators_is_one_finding(request, mongodb_service, app_db):
    db = app_db()
    db.fidelity_items.insert_many([{"c": "a", "n": 1}, {"c": "a", "n": 2}])
    assert GUARD.take() == []  # a plain insert is served as MongoDB serves it
    list(db.fidelity_items.aggregate([{"$group": {"_id": "$c", "count": {"$sum": 1}, "n": {"$sum": "$n"}}}]))
    assert GUARD.take() == expected(request, mongodb_service, "$group with several accumulators")


def test_a_job_claim_by_find_one_and_update_is_one_finding(request, mongodb_service, app_db):
    db = app_db()
    db.fidelity_items.insert_one({"status": "pending"})
    GUARD.take()
    db.fidelity_items.find_one_and_update({"status": "pending"}, {"$set": {"status": "running"}})
    assert GUARD.take() == expected(request, mongodb_service, "findAndModify (find_one_and_update)")
    db.fidelity_items.find_one_and_update({"_id": 1}, {"$set": {"status": "done"}})
    assert GUARD.take() == []  # by _id alone nothing can race


def test_an_unimplemented_stage_the_table_names_is_its_row_alone(request, mongodb_service, app_db):
    db = app_db()
    try:
        list(db.fidelity_items.aggregate([{"$lookup": {"from": "x", "localField": "a", "foreignField": "b",
                                                           "as": "c"}}]))
    except OperationFailure:
        pass  # FerretDB does not implement it: the row says so, the error adds no second line
    assert GUARD.take() == expected(request, mongodb_service, "$lookup")


def test_a_dbref_written_is_one_finding(request, mongodb_service, app_db):
    db = app_db()
    from bson.dbref import DBRef

    try:
        db.fidelity_items.insert_one({"link": DBRef("user_data", 1)})
    except OperationFailure:
        pass  # FerretDB refuses keys starting with '$'
    assert GUARD.take() == expected(request, mongodb_service, "DBRef")


def test_an_unimplemented_stage_the_table_does_not_name_is_one_line_from_ferretdbs_error(request, mongodb_service,
                                                                                          app_db):
    db = app_db()
    try:
        list(db.fidelity_items.aggregate([{"$facet": {"all": [{"$match": {}}]}}]))
    except OperationFailure:
        pass
    found = GUARD.take()
    if not expected(request, mongodb_service, "$lookup"):  # not a watched stand-in: MongoDB runs $facet
        assert found == []
        return
    stand_in = f"{mongodb_service.backend} {mongodb_service.version}"
    ((mode, line),) = found
    assert mode == fidelity.mode_of(request.config)
    assert line.startswith(f"MongoDB fidelity: aggregate on the stand-in {stand_in}: error (`aggregate` stage"
                           ' "$facet" is not implemented yet')
    assert line.endswith("; MongoDB 7 implements it); to run on MongoDB 7 set TEST_MONGODB_URI")


# --- the pieces, called directly ---------------------------------------------------------------------------------


class FakeConfig:
    """What the watch reads of a run's config: its registry's mongodb settings (a run of its own, so watching and
    unwatching its made-up addresses leaves this run's watch alone)."""

    def __init__(self, mode: str) -> None:
        from narrative_fixtures.services.common import REGISTRY_KEY

        registry = types.SimpleNamespace(settings={"mongodb": {"fidelity": mode}})
        self.stash = {REGISTRY_KEY: registry}


def stand_in(**changes):
    from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint

    values = dict(backend="FerretDB", version="1.24.2", host="db.example", port=1, hosts=("db.example",),
                  loopback=False)
    values.update(changes)
    return MongoDBEndpoint("mongodb", "external", "mongodb://db.example:1/", **values)


def test_a_remote_stand_in_is_watched_at_its_hosts_until_the_run_ends():
    config = FakeConfig("fail")
    fidelity.watch(config, stand_in(hosts=("db.example", "db2.example")))
    try:
        assert fidelity.WATCH.lookup(("db.example", 1)) == ("fail", "FerretDB 1.24.2")
        assert fidelity.WATCH.lookup(("db2.example", 1)) == ("fail", "FerretDB 1.24.2")
        assert fidelity.WATCH.lookup(("localhost", 1)) is None
    finally:
        fidelity.unwatch(config)
    assert fidelity.WATCH.lookup(("db.example", 1)) is None


def test_a_stand_in_on_loopback_is_watched_under_every_loopback_name():
    config = FakeConfig("warn")
    fidelity.watch(config, stand_in(host="127.0.0.2", hosts=(), loopback=True, port=2))
    try:
        assert [fidelity.WATCH.lookup((host, 2)) for host in ("127.0.0.2", "localhost", "127.0.0.1", "::1")] == [
            ("warn", "FerretDB 1.24.2")] * 4
    finally:
        fidelity.unwatch(config)


@pytest.mark.parametrize("mode, backend", [("off", "FerretDB"), ("warn", "MongoDB")])
def test_mongodb_itself_or_the_guard_off_is_not_watched(mode, backend):
    config = FakeConfig(mode)
    fidelity.watch(config, stand_in(backend=backend, port=3, hosts=("db3.example",)))
    try:
        assert fidelity.WATCH.lookup(("db3.example", 3)) is None
    finally:
        fidelity.unwatch(config)
    assert fidelity.mode_of(config) == mode


def nested(depth: int, leaf) -> dict:
    value = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def test_a_dbref_is_found_twenty_levels_deep_and_no_deeper():
    from bson.dbref import DBRef

    assert fidelity._has_dbref(nested(20, {"$ref": "user_data", "$id": 1})) is True
    assert fidelity._has_dbref(nested(21, {"$ref": "user_data", "$id": 1})) is False
    assert fidelity._has_dbref(nested(20, DBRef("user_data", 1))) is True
    assert fidelity._has_dbref(nested(20, {"ref": "user_data"})) is False


def test_what_a_write_sends_is_its_documents_updates_or_update():
    assert fidelity._written({"documents": [1], "updates": [2], "update": 3, "filter": 4}) == [[1], [2], 3]
    assert fidelity._written({"filter": {}}) == []


def test_each_group_stage_names_its_accumulators_but_not_its_key():
    request = {"pipeline": [{"$match": {}}, {"$group": {"_id": "$c", "n": {"$sum": 1}, "m": {"$max": "$r"}}},
                            "not a stage", {"$group": "not a group"}, {"$group": {"_id": {"c": "$c"}, "k": "$x"}}]}
    assert fidelity._accumulators_by_group(request) == (["$sum", "$max"], [])
    assert fidelity._accumulators_by_group({"pipeline": None}) == ()


class FakeMonitoring:
    """A copy of ``pymongo.monitoring`` as the listener sees it: its base class, and what was registered."""

    CommandListener = pymongo.monitoring.CommandListener

    def __init__(self) -> None:
        self.registered: list = []

    def register(self, listener) -> None:
        self.registered.append(listener)


def test_the_listener_is_registered_once_per_copy_of_pymongos_monitoring(monkeypatch):
    copy = FakeMonitoring()
    fidelity._register_listener(copy)
    fidelity._register_listener(copy)
    (listener,) = copy.registered
    assert isinstance(listener, pymongo.monitoring.CommandListener) and copy._narrative_fidelity is True
    imported = FakeMonitoring()
    monkeypatch.setitem(sys.modules, fidelity.MONITORING, imported)  # the copy PyMongo imported, when none is given
    fidelity._register_listener()
    assert len(imported.registered) == 1
    monkeypatch.delitem(sys.modules, fidelity.MONITORING)
    fidelity._register_listener()  # PyMongo not imported: nothing to register with, and no error


def test_a_test_without_the_marker_is_left_to_run(request):
    unmarked = types.SimpleNamespace(get_closest_marker=lambda name: None, config=request.config)
    assert fidelity.require_real_server(unmarked) is None


def test_a_marked_test_on_the_stand_in_is_skipped_with_the_reason(request, mongodb_service):
    marker = pytest.mark.needs_mongodb_server(reason="atomic job claims").mark
    marked = types.SimpleNamespace(get_closest_marker=lambda name: marker if name == fidelity.MARKER else None,
                                   config=request.config)
    if mongodb_service.backend == "MongoDB":  # the real server: nothing to skip
        assert fidelity.require_real_server(marked) is None
        return
    from narrative_fixtures.services.common import registry_of

    strict = registry_of(request.config).settings.require_services
    outcome = pytest.fail.Exception if strict else pytest.skip.Exception
    with pytest.raises(outcome) as stopped:
        fidelity.require_real_server(marked)
    assert str(stopped.value).startswith(
        f"needs the MongoDB server (atomic job claims): the run's is the stand-in FerretDB {mongodb_service.version};"
        " set TEST_MONGODB_URI to a MongoDB 7")


def command_event(address, request_id: int, command: dict | None = None, failure: dict | None = None):
    """A PyMongo command event as a listener receives it (started, or failed with ``failure``)."""
    return types.SimpleNamespace(connection_id=address, command_name="aggregate", command=command or {},
                                 request_id=request_id, failure=failure)


def test_the_listener_itself_names_a_difference_once_and_an_unexplained_error_from_ferretdb(request,
                                                                                             mongodb_service):
    fidelity.watch(request.config, mongodb_service)  # see app_db
    listener = fidelity._make_listener(pymongo.monitoring)  # fed by hand: the run's own listener never sees these
    address = (mongodb_service.host, mongodb_service.port)
    GUARD.take()
    listener.started(command_event(address, 1, {"pipeline": [{"$lookup": {"from": "x"}}]}))
    listener.failed(command_event(address, 1, failure={"code": 238, "errmsg": "$lookup is not implemented"}))
    assert GUARD.take() == expected(request, mongodb_service, "$lookup")  # the row; the error adds no line
    listener.started(command_event(address, 2, {"pipeline": [{"$facet": {}}]}))
    listener.failed(command_event(address, 2, failure={"code": 238, "errmsg": " $facet is not implemented "}))
    listener.failed(command_event(address, 3, failure={"code": 2, "errmsg": "bad value"}))  # not a missing feature
    listener.started(command_event(("db.example", 1), 4, {"pipeline": [{"$lookup": {}}]}))  # not a watched server
    listener.failed(command_event(("db.example", 1), 4, failure={"code": 238, "errmsg": "no"}))
    found = GUARD.take()
    if not expected(request, mongodb_service, "$lookup"):  # MongoDB itself, or the guard off: nothing is watched
        assert found == []
        return
    stand_in = f"{mongodb_service.backend} {mongodb_service.version}"
    assert found == [(fidelity.mode_of(request.config), (
        f"MongoDB fidelity: aggregate on the stand-in {stand_in}: error ($facet is not implemented; MongoDB 7"
        " implements it); to run on MongoDB 7 set TEST_MONGODB_URI"))]
