"""``setup_database`` empties after each test, also when it leaves that pass to the next test's set-up (core.next_test:
the next test of the module sets it up too, and its set-up empties anyway). Nested runs on a FerretDB of this
module's own, as an external server: each test writes, later ones count what they see, and after the run a client of
this test counts what survived in the database; and on their own embedded server, where the janitor reads the
store instead of asking (services/mongodb/storage.py)."""

from __future__ import annotations

import itertools

import pymongo
import pytest

from tests.mongodb_support import point_nested_runs_at

DATABASES = itertools.count()

HEADER = """
import pytest
import pytest_asyncio

async def seen(db):
    return sum([await db[name].count_documents(dict()) for name in await db.list_collection_names()
                if name != "narrative_fixtures_claim"])

@pytest_asyncio.fixture
async def raw_db(mongo_client, mongodb_service):
    return mongo_client[mongodb_service.database]
"""

WRITES = """
@pytest.mark.asyncio
async def test_{n}_writes(setup_database):
    await setup_database.notes.insert_many([dict(n=1), dict(n=2), dict(n=3)])
"""

COUNTS_WITH = """
@pytest.mark.asyncio
async def test_{n}_counts_with_{fixture}({fixture}):
    print("SEEN", await seen({fixture}))
"""


@pytest.fixture(params=["external", "embedded"])
def database_project(request, project, ferretdb):
    """Nested runs on this module's server as an external one (their janitor asks it over the wire; a client of this
    test counts what survived the run: ``left_in_database()``), or on their own embedded one (their janitor looks
    into its store, services/mongodb/storage.py; it is gone after the run)."""
    database = f"emptied_{next(DATABASES)}_test"
    if request.param == "embedded":
        yield point_nested_runs_at(project, database=database)
        return
    point_nested_runs_at(project, ferretdb.url, database)
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    project.left_in_database = lambda: sum(  # what survived the run, its claim aside
        client[database][name].count_documents({}) for name in client[database].list_collection_names()
        if name != "narrative_fixtures_claim")
    yield project
    client.drop_database(database)
    client.close()


def _run(project, *args, **modules):
    project.makepyfile(**{name: HEADER + body for name, body in modules.items()})
    result = project.runpytest_inprocess("-p", "no:randomly", "-s", *args)
    return result, [int(line.split("SEEN", 1)[1]) for line in result.outlines if "SEEN" in line]


@pytest.mark.parametrize("database_project", ["external"], indirect=True)  # counts after the run
def test_the_next_setup_database_test_of_the_module_sees_nothing_and_the_last_test_s_writes_are_gone(
        database_project):
    tests = WRITES.format(n=1) + COUNTS_WITH.format(n=2, fixture="setup_database") + WRITES.format(n=3)
    result, seen = _run(database_project, test_app=tests)
    result.assert_outcomes(passed=3)
    assert seen == [0] and database_project.left_in_database() == 0


def test_a_next_test_without_setup_database_finds_the_database_emptied(database_project):
    result, seen = _run(database_project, test_app=WRITES.format(n=1) + COUNTS_WITH.format(n=2, fixture="raw_db"))
    result.assert_outcomes(passed=2)
    assert seen == [0]


def test_a_next_test_that_is_skipped_leaves_the_emptying_done_at_its_end(database_project):
    skipped = '\n@pytest.mark.skip(reason="not today")' + COUNTS_WITH.format(n=2, fixture="setup_database")
    result, seen = _run(database_project, test_app=WRITES.format(n=1) + skipped
                        + COUNTS_WITH.format(n=3, fixture="raw_db"))
    result.assert_outcomes(passed=2, skipped=1)
    assert seen == [0]


def test_a_next_test_whose_earlier_fixture_fails_leaves_the_emptying_done_at_its_end(database_project):
    failing = """
@pytest.fixture
def broken():
    raise RuntimeError("no app today")

@pytest.mark.asyncio
async def test_2_never_sets_up(broken, setup_database):
    pass
"""
    result, seen = _run(database_project, test_app=WRITES.format(n=1) + failing
                        + COUNTS_WITH.format(n=3, fixture="raw_db"))
    result.assert_outcomes(passed=2, errors=1)
    assert seen == [0]


@pytest.mark.parametrize("database_project", ["external"], indirect=True)  # counts after the run
def test_a_run_stopped_after_a_failure_leaves_nothing_behind(database_project):
    fails_after_writing = WRITES.format(n=1) + "    assert False, 'the test fails after writing'\n"
    result, seen = _run(database_project, "-x", test_app=fails_after_writing
                        + COUNTS_WITH.format(n=2, fixture="setup_database"))
    result.assert_outcomes(failed=1)
    assert database_project.left_in_database() == 0


@pytest.mark.parametrize("database_project", ["external"], indirect=True)  # counts after the run
def test_the_first_test_of_the_next_module_finds_the_database_emptied_even_before_its_set_up(database_project):
    """Its module's fixtures run first (here one that counts before ``setup_database`` is set up): the pass is never
    left across a module's boundary."""
    counts_first = """
@pytest_asyncio.fixture
async def counted_first(raw_db):
    print("SEEN", await seen(raw_db))

@pytest.mark.asyncio
async def test_1_counts_before_setting_up(counted_first, setup_database):
    pass
"""
    result, seen = _run(database_project, test_a=WRITES.format(n=1), test_b=counts_first + WRITES.format(n=2))
    result.assert_outcomes(passed=3)
    assert seen == [0] and database_project.left_in_database() == 0


def test_a_next_test_with_its_own_setup_database_finds_the_database_emptied(database_project):
    """The next test requests another definition of the name (a class overrides it): not the same fixture."""
    overriding = """
class TestOwn:
    @pytest_asyncio.fixture
    async def setup_database(self, raw_db):
        return raw_db

    @pytest.mark.asyncio
    async def test_2_counts(self, setup_database):
        print("SEEN", await seen(setup_database))
"""
    result, seen = _run(database_project, test_app=WRITES.format(n=1) + overriding)
    result.assert_outcomes(passed=2)
    assert seen == [0]


def test_a_next_test_given_a_value_under_the_fixture_s_name_finds_the_database_emptied(database_project):
    """Same module, same name, but not the fixture (a direct parametrization): the pass is done after the first."""
    parametrized = """
@pytest.mark.asyncio
@pytest.mark.parametrize("setup_database", ["a value, not the fixture"])
async def test_2_counts(raw_db, setup_database):
    print("SEEN", await seen(raw_db))
"""
    result, seen = _run(database_project, test_app=WRITES.format(n=1) + parametrized)
    result.assert_outcomes(passed=2)
    assert seen == [0]
