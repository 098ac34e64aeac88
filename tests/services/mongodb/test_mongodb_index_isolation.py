"""Airtight isolation of indexes and collections (issue 15, item 4): a test that adds an index to a model's
collection, drops one of its indexes, or makes a collection of its own with an index leaves none of it to the next
``setup_database`` test (nested runs: the first test does the damage, the second counts what it sees)."""

from __future__ import annotations

import itertools

import pytest

from tests.mongodb_support import point_nested_runs_at, throwaway_database

DATABASES = itertools.count()
MODEL_INDEXES = ["user_uploads", "queue_order"]  # UserData's and BatchJob's, as Beanie makes them

DAMAGE = {
    "adds_an_index_to_a_model_collection":
        'await db.user_data.create_index("filename", unique=True, name="extra_unique")',
    "drops_a_model_index": 'await db.user_data.drop_index("user_uploads")',
    "replaces_a_model_index_under_its_name":
        'await db.user_data.drop_index("user_uploads")\n'
        '    await db.user_data.create_index("filename", unique=True, name="user_uploads")',
    "makes_another_collection_with_an_index": 'await db.app_only.create_index("key", unique=True, name="app_key")',
}

HEADER = """
import pymongo
import pytest


async def print_seen(db):
    # the indexes but _id_ of each collection, with their keys and whether they are unique
    seen = dict()  # (no braces: the tests are str.format templates)
    for name in sorted(await db.list_collection_names()):
        indexes = await db[name].index_information()
        found = sorted((index, list(about["key"]), bool(about.get("unique"))) for index, about in indexes.items()
                       if index != "_id_")
        if found and name != "narrative_fixtures_claim":
            seen[name] = found
    print("SEEN", seen)
"""

TESTS = HEADER + """

@pytest.mark.asyncio
async def test_1_does_the_damage({fixture}):
    db = {fixture}
    await db.user_data.insert_one({{"filename": "a"}})
    {damage}


@pytest.mark.asyncio
async def test_2_sees_none_of_it({fixture}):
    await print_seen({fixture})
"""

APP_CLIENT_FIRST = HEADER + """

def test_1_the_app_makes_a_collection_with_an_index_before_any_database_fixture(mongodb_service):
    client = pymongo.MongoClient(mongodb_service.url)
    client[mongodb_service.database].app_only.create_index("key", unique=True, name="app_key")
    client.close()


@pytest.mark.asyncio
async def test_2_the_first_setup_database_test_sees_none_of_it(setup_database):
    await print_seen(setup_database)
"""

RAW_CONFTEST = """
from narrative_fixtures.services.mongodb.factories import database_factory

raw_db = database_factory(name="raw_{n}_test", models=())
"""


@pytest.fixture(params=["external", "embedded"])
def index_project(request, project, ferretdb):
    """A project whose nested runs use a server of this module's as an external one (the janitor asks it over the
    wire), or their own embedded one (the janitor looks into its store, services/mongodb/storage.py)."""
    if request.param == "embedded":
        return point_nested_runs_at(project, database=f"indexes_{next(DATABASES)}_test")
    return point_nested_runs_at(project, ferretdb.url, f"indexes_{next(DATABASES)}_test")


def _seen(project, tests: str) -> str:
    """Run the two tests (both must pass) and return what the second one saw: its collections and their indexes."""
    project.makepyfile(test_damage=tests)
    result = project.runpytest_inprocess("-p", "no:randomly", "-s")
    result.assert_outcomes(passed=2)
    return [line for line in result.outlines if "SEEN" in line][-1].split("SEEN", 1)[1].strip()


def _clean(project, fixture: str) -> str:
    """What the second test sees when the first did no damage: the models' indexes as Beanie made them, no other
    (a collection with no index but ``_id_`` is left out: emptied collections stay)."""
    seen = _seen(project, TESTS.format(fixture=fixture, damage="pass"))
    assert (seen == "{}") if fixture == "raw_db" else (all(f"'{name}'" in seen for name in MODEL_INDEXES)), seen
    return seen


@pytest.mark.parametrize(("damage", "fixture"), [
    *((damage, "setup_database") for damage in sorted(DAMAGE)),
    # a database without models: every collection is the test's own, none has an index of Beanie's to drop
    ("adds_an_index_to_a_model_collection", "raw_db"), ("makes_another_collection_with_an_index", "raw_db"),
])
def test_the_next_test_sees_no_index_or_collection_an_earlier_test_changed(index_project, damage, fixture):
    if fixture == "raw_db":
        index_project.makeconftest(RAW_CONFTEST.format(n=next(DATABASES)))
    clean = _clean(index_project, fixture)
    assert _seen(index_project, TESTS.format(fixture=fixture, damage=DAMAGE[damage])) == clean


def test_a_collection_the_app_made_before_the_first_database_test_loses_its_index_too(index_project):
    clean = _clean(index_project, "setup_database")
    index_project._monkeypatch.setenv("TEST_MONGODB_DB", f"indexes_{next(DATABASES)}_test")  # a fresh database
    assert _seen(index_project, APP_CLIENT_FIRST) == clean


# --- the janitor's part, in process (the run's server, a fresh database dropped after) -----------------------------


@pytest.fixture
def fresh(mongodb_service):
    with throwaway_database(mongodb_service.url, "clean") as database:
        yield database


def _build(database):
    """A model's collection with its index, one made without any, the run's claim: what a first build leaves."""
    from narrative_fixtures.services.mongodb.janitor import CLAIM_COLLECTION, built_indexes

    database.orders.create_index("total", name="by_total")
    database[CLAIM_COLLECTION].insert_one({"_id": "claim", "run": "this run"})
    return built_indexes(database, ["orders", "notes"])


def test_the_janitor_drops_every_index_the_build_did_not_make_and_keeps_the_collections_emptied(fresh):
    from narrative_fixtures.services.mongodb.janitor import CLAIM_COLLECTION, make_clean_now

    built = _build(fresh)
    assert set(built["orders"]) == {"_id_", "by_total"} and built["notes"] is None
    fresh.orders.create_index("customer", unique=True, name="added")
    fresh.notes.create_index("text", name="on_notes")  # a model collection the build made no index in
    fresh.app_only.create_index("key", name="app_key")
    fresh.orders.insert_one({"total": 1})
    assert make_clean_now(fresh, built) is False  # nothing of the build's is missing
    assert sorted(fresh.list_collection_names()) == sorted([CLAIM_COLLECTION, "app_only", "notes", "orders"])
    indexes = {name: set(fresh[name].index_information()) for name in ("orders", "notes", "app_only")}
    assert indexes == {"orders": {"_id_", "by_total"}, "notes": {"_id_"}, "app_only": {"_id_"}}
    assert (fresh.orders.count_documents({}), fresh[CLAIM_COLLECTION].count_documents({})) == (0, 1)


def test_the_janitor_says_when_an_index_of_the_build_is_missing_changed_or_its_collection_gone(fresh):
    from narrative_fixtures.services.mongodb.janitor import make_clean_now

    built = _build(fresh)
    fresh.orders.drop_index("by_total")
    assert make_clean_now(fresh, built) is True
    fresh.orders.create_index("customer", name="by_total")  # the same name, another index
    assert make_clean_now(fresh, built) is True
    assert set(fresh.orders.index_information()) == {"_id_"}  # dropped: Beanie makes the right one again
    fresh.orders.create_index("total", name="by_total")
    assert make_clean_now(fresh, built) is False
    fresh.drop_collection("orders")
    assert make_clean_now(fresh, built) is True


def test_before_the_first_build_the_janitor_only_empties(fresh):
    from narrative_fixtures.services.mongodb.janitor import make_clean_now

    fresh.app_only.create_index("key", name="app_key")
    fresh.app_only.insert_one({"key": 1})
    assert make_clean_now(fresh, None) is False
    assert fresh.app_only.count_documents({}) == 0 and "app_key" in fresh.app_only.index_information()
