"""The fidelity guard for the embedded FerretDB as another project meets it: its application's own client gets a
FidelityWarning (or a failure, or nothing) for what FerretDB serves differently from MongoDB 7; the marker for tests
that need the real server; the one table of differences and its reproductions."""

from __future__ import annotations

import pymongo
import pytest
from pymongo.errors import OperationFailure

from narrative_fixtures.services.mongodb.fidelity import TABLE
from tests import fidelity_support as checks
from tests.mongodb_support import point_nested_runs_at

APP_TESTS = """
import pytest
from pymongo import AsyncMongoClient


async def app_database(mongodb_service):
    # the application under test makes its own client from the URL it is given
    client = AsyncMongoClient(mongodb_service.url)
    return client, client[mongodb_service.database]


@pytest.mark.asyncio
async def test_report(mongodb_service):
    client, db = await app_database(mongodb_service)
    await db.datasets.delete_many({})
    await db.datasets.insert_many([{"category": "sales", "rows": n} for n in (1200, 800)])
    cursor = await db.datasets.aggregate(
        [{"$group": {"_id": "$category", "datasets": {"$sum": 1}, "rows": {"$sum": "$rows"}}}])
    report = await cursor.to_list()
    await client.close()
    assert report[0]["datasets"] == 2


@pytest.mark.asyncio
async def test_claim(mongodb_service):
    client, db = await app_database(mongodb_service)
    await db.jobs.delete_many({})
    await db.jobs.insert_one({"status": "pending"})
    job = await db.jobs.find_one_and_update({"status": "pending"}, {"$set": {"status": "running"}})
    await client.close()
    assert job["status"] == "pending"


@pytest.mark.asyncio
async def test_links(mongodb_service):
    client, db = await app_database(mongodb_service)
    try:
        await db.models.aggregate([{"$lookup": {"from": "d", "localField": "x", "foreignField": "_id", "as": "d"}}])
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_plain(mongodb_service):
    client, db = await app_database(mongodb_service)
    await db.jobs.insert_one({"status": "done"})
    assert await db.jobs.find_one({"status": "done"})
    await client.close()


@pytest.mark.needs_mongodb_server(reason="atomic job claims")
def test_needs_server(mongodb_service):
    pass
"""


@pytest.fixture
def app_project(project):
    point_nested_runs_at(project)
    project.makepyfile(test_app=APP_TESTS)
    return project


def test_warn_by_default_the_apps_own_client_gets_a_fidelity_warning_per_operation(app_project):
    result = app_project.runpytest_inprocess("-p", "no:randomly", "-rs", "--junitxml=junit.xml")
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*warnings summary*",
        "*test_app.py::test_report",
        "*FidelityWarning: MongoDB fidelity: $group with several accumulators on the stand-in FerretDB 1.24.2:"
        " wrong result (FerretDB computes only the first accumulator*; reproduced by"
        " tests/services/mongodb/test_mongodb_ferretdb_limits.py::test_only_the_first_accumulator_*); to run on"
        " MongoDB 7 set TEST_MONGODB_URI*",
    ])
    found = checks.findings(app_project)
    assert checks.operations(found["test_report"]) == [
        "MongoDB fidelity: $group with several accumulators"]
    assert checks.operations(found["test_claim"]) == [
        "MongoDB fidelity: findAndModify (find_one_and_update)"]
    assert "not atomic" in found["test_claim"][0]
    assert found["test_plain"] == [] and found["test_needs_server"] == []
    # FerretDB's own error is kept, with the same one-line explanation beside it
    assert checks.operations(found["test_links"]) == ["MongoDB fidelity: $lookup"]
    result.stdout.fnmatch_lines([
        "*OperationFailure*`aggregate` stage \"$lookup\" is not implemented yet*",
        "*narrative fidelity*",
        "MongoDB fidelity: $lookup on the stand-in FerretDB 1.24.2: error (*",
    ])
    result.stdout.fnmatch_lines([
        "SKIPPED*needs the MongoDB server (atomic job claims): the run's is the stand-in"
        " FerretDB 1.24.2; set TEST_MONGODB_URI to a MongoDB 7",
    ])


def test_fail_fails_the_test_with_that_line(app_project):
    checks.assert_fail_mode_fails_with_the_lines(app_project, "TEST_MONGODB_FIDELITY", "report or claim or plain",
                                                 passed=1, failed=2, lines=[
        "*_ test_report _*",
        "MongoDB fidelity: $group with several accumulators on the stand-in FerretDB 1.24.2: wrong result (*",
        "*_ test_claim _*",
        "MongoDB fidelity: findAndModify (find_one_and_update) on the stand-in FerretDB 1.24.2: not atomic (*",
        "*narrative services used*",
    ])


def test_off_gives_nothing(app_project):
    checks.assert_off_gives_nothing(app_project, "--mongodb-fidelity", "report or claim",
                                    ["test_report", "test_claim"])


def test_a_test_that_needs_the_server_fails_on_the_stand_in_in_strict_mode(app_project):
    checks.assert_marked_test_fails_in_strict_mode(
        app_project, "needs the MongoDB server (atomic job claims): the run's is the stand-in FerretDB 1.24.2; set"
        " TEST_MONGODB_URI to a MongoDB 7")


def test_a_value_that_is_no_mode_is_refused_naming_the_setting(app_project):
    app_project._monkeypatch.setenv("TEST_MONGODB_FIDELITY", "loud")
    result = app_project.runpytest_inprocess("-k", "plain")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*TEST_MONGODB_FIDELITY*loud*is not one of warn, fail, off*"])


# --- the table --------------------------------------------------------------------------------------------------

def test_every_difference_names_a_reproduction_that_exists():
    assert checks.missing_reproductions(TABLE) == []


@pytest.mark.parametrize(("command", "request_", "operations"), [
    ("aggregate", {"pipeline": [{"$group": {"_id": "$c", "n": {"$sum": 1}, "r": {"$sum": "$r"}}}]},
     ["$group with several accumulators"]),
    ("aggregate", {"pipeline": [{"$match": {}}, {"$group": {"_id": "$c", "r": {"$sum": "$r"}}}]}, []),
    ("aggregate", {"pipeline": [{"$group": {"_id": "$c", "m": {"$max": "$r"}}}]}, ["$group accumulator $max"]),
    ("aggregate", {"pipeline": [{"$lookup": {"from": "x"}}]}, ["$lookup"]),
    ("insert", {"documents": [{"link": {"$ref": "user_data", "$id": 1}}]}, ["DBRef"]),
    ("insert", {"documents": [{"name": "a", "tags": [1, {"x": 2}]}]}, []),
    ("findAndModify", {"query": {"status": "pending"}}, ["findAndModify (find_one_and_update)"]),
    ("findAndModify", {"query": {}, "sort": {"n": 1}}, ["findAndModify (find_one_and_update)"]),
    ("findAndModify", {"query": {"_id": 1}, "update": {"$set": {"a": 1}}}, []),  # Beanie's set(): nothing to race
    ("find", {"filter": {}, "startTransaction": True}, ["transactions (startTransaction)"]),
    ("find", {"filter": {"$group": 1}}, []),
])
def test_the_table_recognises_each_difference_and_nothing_else(command, request_, operations):
    assert [difference.operation for difference in TABLE.find(command, request_)] == operations


def test_a_transaction_is_refused_by_ferretdb(ferretdb):
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    collection = client["fidelity_test"]["t"]
    try:
        with client.start_session() as session:
            session.start_transaction()
            with pytest.raises(OperationFailure, match='unknown field "startTransaction"') as failure:
                collection.insert_one({"_id": 1}, session=session)
            assert failure.value.code == 9  # FailedToParse: MongoDB 7 would run it in the transaction
    finally:
        client.drop_database("fidelity_test")
        client.close()


def test_the_warning_is_narrative_fixtures_fidelity_warning():
    import narrative_fixtures
    from narrative_fixtures.core import fidelity

    assert narrative_fixtures.FidelityWarning is fidelity.FidelityWarning
    assert issubclass(narrative_fixtures.FidelityWarning, UserWarning)


APP_MODULE = """
import os

import pymongo

CLIENT = pymongo.MongoClient(os.environ["APP_MONGODB_URL"])  # made when the application is imported
"""

APP_MODULE_TESTS = """
import app_store


def test_report_through_the_import_time_client(mongodb_service):
    db = app_store.CLIENT[mongodb_service.database]
    db.datasets.insert_many([{"category": "sales", "rows": n} for n in (1200, 800)])
    list(db.datasets.aggregate([{"$group": {"_id": "$category", "n": {"$sum": 1}, "rows": {"$sum": "$rows"}}}]))
"""


def test_a_client_the_application_makes_at_import_time_is_watched_too(project, ferretdb):
    # the listener is registered when the run starts (or when PyMongo is imported), not when mongodb_service is set
    # up: a client made while the test modules are collected already reports its commands
    point_nested_runs_at(project, ferretdb.url)  # a FerretDB in external mode: watched as well
    project._monkeypatch.setenv("APP_MONGODB_URL", ferretdb.url)
    project.makepyfile(app_store=APP_MODULE, test_app_at_import=APP_MODULE_TESTS)
    result = project.runpytest_subprocess("-p", "no:randomly", "--junitxml=junit.xml")  # a fresh PyMongo
    result.assert_outcomes(passed=1)
    assert checks.operations(checks.findings(project)["test_report_through_the_import_time_client"]) == [
        "MongoDB fidelity: $group with several accumulators"]
