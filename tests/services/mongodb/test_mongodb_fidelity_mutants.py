"""The fidelity listener in this very run: an application's client talks to the run's server and the guard's
findings are taken straight from it (``GUARD.take()``, so no warning is left for the test). On the embedded
FerretDB each difference is one line; MongoDB itself is no stand-in and gets none. The nested runs of
test_mongodb_fidelity.py show the warnings as users meet them; the mutation run cannot see into those."""

from __future__ import annotations

import pymongo
import pytest
from pymongo.errors import OperationFailure

from narrative_fixtures.services.mongodb import fidelity
from narrative_fixtures.services.mongodb.fidelity import GUARD, TABLE, finding


@pytest.fixture
def app_db(request, mongodb_service):
    """An application's own client on the run's test database; the findings of the setup are set aside.

    The client is given a listener of this module's copy: the run registers one when PyMongo is imported, but a
    run that imports the plugin afresh (the mutation run does, per session) keeps the first copy's listener."""
    listener = fidelity._make_listener(pymongo.monitoring)  # its findings and the run's are the same lines: one
    # A nested in-process run on the same server (features/mongodb.feature has one) unwatches its address when it
    # ends, the outer run's watch with it (core.fidelity.StandInWatch.unwatch, reported): watched again here.
    fidelity.watch(request.config, mongodb_service)
    client = pymongo.MongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000, event_listeners=[listener])
    database = client[mongodb_service.database]
    database.fidelity_items.delete_many({})
    GUARD.take()
    yield database
    database.fidelity_items.delete_many({})
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
    app_db.fidelity_items.insert_many([{"c": "a", "n": 1}, {"c": "a", "n": 2}])
    assert GUARD.take() == []  # a plain insert is served as MongoDB serves it
    list(app_db.fidelity_items.aggregate([{"$group": {"_id": "$c", "count": {"$sum": 1}, "n": {"$sum": "$n"}}}]))
    assert GUARD.take() == expected(request, mongodb_service, "$group with several accumulators")


def test_a_job_claim_by_find_one_and_update_is_one_finding(request, mongodb_service, app_db):
    app_db.fidelity_items.insert_one({"status": "pending"})
    GUARD.take()
    app_db.fidelity_items.find_one_and_update({"status": "pending"}, {"$set": {"status": "running"}})
    assert GUARD.take() == expected(request, mongodb_service, "findAndModify (find_one_and_update)")
    app_db.fidelity_items.find_one_and_update({"_id": 1}, {"$set": {"status": "done"}})
    assert GUARD.take() == []  # by _id alone nothing can race


def test_an_unimplemented_stage_the_table_names_is_its_row_alone(request, mongodb_service, app_db):
    try:
        list(app_db.fidelity_items.aggregate([{"$lookup": {"from": "x", "localField": "a", "foreignField": "b",
                                                           "as": "c"}}]))
    except OperationFailure:
        pass  # FerretDB does not implement it: the row says so, the error adds no second line
    assert GUARD.take() == expected(request, mongodb_service, "$lookup")


def test_a_dbref_written_is_one_finding(request, mongodb_service, app_db):
    from bson.dbref import DBRef

    try:
        app_db.fidelity_items.insert_one({"link": DBRef("user_data", 1)})
    except OperationFailure:
        pass  # FerretDB refuses keys starting with '$'
    assert GUARD.take() == expected(request, mongodb_service, "DBRef")


def test_an_unimplemented_stage_the_table_does_not_name_is_one_line_from_ferretdbs_error(request, mongodb_service,
                                                                                          app_db):
    try:
        list(app_db.fidelity_items.aggregate([{"$facet": {"all": [{"$match": {}}]}}]))
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
