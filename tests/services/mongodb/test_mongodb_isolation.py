"""Airtight isolation (issue 13): a ``setup_database`` test never sees what an earlier test wrote, whoever wrote it,
here an application's own ``MongoClient`` and ``AsyncMongoClient`` made from ``mongodb_service.url`` in tests that
use no database fixture, in both orders and in several random orders (pytest-randomly seeds)."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.mongodb_support import point_nested_runs_at

SEEDS = (1, 2, 3, 4, 5)
DATABASES = itertools.count()

STARTS_EMPTY = """
@pytest.mark.asyncio
async def test_{name}_starts_empty(setup_database):
    names = [name for name in await setup_database.list_collection_names() if name != "narrative_fixtures_claim"]
    found = {{name: await setup_database[name].find({{}}, {{"_id": 0}}).to_list() for name in names}}
    assert {{name: docs for name, docs in found.items() if docs}} == {{}}
    await setup_database.user_data.insert_one({{"from": "{name}"}})
"""

WRITES_SYNC = """
def test_{name}_app_writes_through_its_own_client(mongodb_service):
    client = pymongo.MongoClient(mongodb_service.url)
    client[mongodb_service.database].batch_jobs.insert_one({{"from": "{name}"}})
    client[mongodb_service.database]["app_only_{name}"].insert_one({{"from": "{name}"}})
    client.close()
"""

WRITES_ASYNC = """
@pytest.mark.asyncio
async def test_{name}_app_writes_through_its_own_async_client(mongodb_service):
    client = pymongo.AsyncMongoClient(mongodb_service.url)
    await client[mongodb_service.database].trained_models.insert_one({{"from": "{name}"}})
    await client[mongodb_service.database]["app_only_{name}"].insert_one({{"from": "{name}"}})
    await client.close()
"""

HEADER = "import pymongo\nimport pytest\n"
# in file order: a writer always stands between two setup_database tests
FORWARD = [STARTS_EMPTY.format(name="a1"), WRITES_SYNC.format(name="w1"), STARTS_EMPTY.format(name="a2"),
           WRITES_ASYNC.format(name="w2"), STARTS_EMPTY.format(name="a3")]
TESTS = len(FORWARD)


@pytest.fixture
def isolation_project(project, ferretdb):
    point_nested_runs_at(project, ferretdb.url)
    # a database of its own per nested run: a run whose last test is a writer leaves the app's documents behind (never
    # the run's to clean), and the next run on that database would rightly refuse it
    project._monkeypatch.setenv("TEST_MONGODB_DB", f"isolation_{next(DATABASES)}_test")
    return project


def _order(result: pytest.RunResult) -> list[str]:
    return re.findall(r"test_isolation\.py::test_(\w+?)_(?:starts|app)", result.stdout.str())


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_a_setup_database_test_starts_empty_after_an_app_client_wrote_in_either_order(isolation_project, order):
    tests = FORWARD if order == "forward" else FORWARD[::-1]
    isolation_project.makepyfile(test_isolation=HEADER + "\n".join(tests))
    result = isolation_project.runpytest_inprocess("-p", "no:randomly", "-v")
    result.assert_outcomes(passed=TESTS)


def test_on_the_embedded_server_too(isolation_project):
    isolation_project._monkeypatch.delenv("TEST_MONGODB_URI")
    isolation_project.makepyfile(test_isolation=HEADER + "\n".join(FORWARD))
    isolation_project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=TESTS)


def test_under_random_order_every_setup_database_test_starts_empty(isolation_project):
    isolation_project.makepyfile(test_isolation=HEADER + "\n".join(FORWARD))
    orders = []
    for seed in SEEDS:
        result = isolation_project.runpytest_inprocess("-p", "randomly", f"--randomly-seed={seed}", "-v")
        result.assert_outcomes(passed=TESTS)
        orders.append(_order(result))
    assert len({tuple(order) for order in orders}) > 1, orders  # the seeds did shuffle
    # and at least one order put an app's write right before a setup_database test
    assert any(first.startswith("w") and second.startswith("a") for order in orders
               for first, second in zip(order, order[1:])), orders
