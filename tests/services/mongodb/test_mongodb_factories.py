"""The MongoDB fixture factories and the typed endpoint, as another project meets them (nested pytest runs): a
second database and client beside the story's, isolated from it; another embedded server; a session-scoped
database; every factory-made database under the data-safety rules; ``details[...]`` equal to the attributes."""

from __future__ import annotations

import pymongo
import pytest

from tests.mongodb_support import point_nested_runs_at

PLAIN_INI = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def mongo_project(project):
    point_nested_runs_at(project)
    return project


@pytest.fixture
def external(mongo_project, ferretdb):
    """The nested runs use the module's FerretDB as TEST_MONGODB_URI; yields a sync client to look at it."""
    mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", ferretdb.url)
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    for name in client.list_database_names():
        client.drop_database(name)
    yield client
    client.close()


SECOND_DATABASE_CONFTEST = """
from beanie import Document
from narrative_fixtures.services.mongodb.factories import database_factory, mongo_client_factory

class Order(Document):
    total: float

orders_db = database_factory(name="orders_test", models=[Order])
raw_db = database_factory(name="raw_test", models=(), client="other_client")
other_client = mongo_client_factory(appname="the-app")
"""

SECOND_DATABASE_TESTS = """
import pytest
from conftest import Order
from narrative_fixtures.models import UserData

@pytest.mark.asyncio
async def test_1_beside_the_story_database(setup_database, test_user_data, orders_db, raw_db):
    assert (setup_database.name, orders_db.name, raw_db.name) == ("narrative_test", "orders_test", "raw_test")
    await Order(total=9.5).insert()
    await raw_db.events.insert_one({"kind": "raw"})
    assert await orders_db["Order"].count_documents({}) == 1
    assert await setup_database.user_data.count_documents({}) == 1
    assert "Order" not in await setup_database.list_collection_names()
    assert await UserData.count() == 1 and await Order.count() == 1

@pytest.mark.asyncio
async def test_2_each_starts_empty(orders_db, raw_db, setup_database):
    assert await Order.count() == 0
    assert await raw_db.events.count_documents({}) == 0
    assert await setup_database.user_data.count_documents({}) == 0
"""


@pytest.mark.parametrize("mode", ["external", "embedded"])
def test_a_second_database_and_client_from_factories_beside_the_story_database(mongo_project, external, mode):
    if mode == "embedded":
        mongo_project._monkeypatch.delenv("TEST_MONGODB_URI")
    mongo_project.makeini(PLAIN_INI)
    mongo_project.makeconftest(SECOND_DATABASE_CONFTEST)
    mongo_project.makepyfile(SECOND_DATABASE_TESTS)
    mongo_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "120").assert_outcomes(passed=2)
    if mode == "external":  # emptied, claims released, nothing written anywhere else
        assert external.orders_test["Order"].count_documents({}) == 0
        assert external.raw_test.events.count_documents({}) == 0
        assert external.orders_test.narrative_fixtures_claim.count_documents({}) == 0
        assert sorted(external.list_database_names()) == ["narrative_test", "orders_test", "raw_test"]


def test_a_factory_database_obeys_the_word_rule_and_the_claim(mongo_project, external):
    external.stock_test.items.insert_many([{"sentinel": n} for n in range(20)])  # someone else's documents
    mongo_project.makeini(PLAIN_INI)
    mongo_project.makeconftest("""
        from narrative_fixtures.services.mongodb.factories import database_factory

        customers_db = database_factory(name="customers", models=())
        stock_db = database_factory(name="stock_test", models=())
    """)
    mongo_project.makepyfile("""
        import pytest

        @pytest.mark.asyncio
        async def test_customers(customers_db):
            pass

        @pytest.mark.asyncio
        async def test_stock(stock_db):
            pass

        @pytest.mark.asyncio
        async def test_story_database_still_works(setup_database):
            pass
    """)
    result = mongo_project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([
        "*refusing to clean MongoDB database 'customers' at mongodb://127.0.0.1:*: its name"
        " (database_factory(name='customers')) does not contain 'test' as its first or last word*",
        "*refusing to clean MongoDB database 'stock_test' at *: it holds documents this run did not write (items: 20)*",
    ])
    assert external.stock_test.items.count_documents({}) == 20
    assert "customers" not in external.list_database_names()


def test_another_embedded_server_from_a_factory_with_its_own_client_and_database(mongo_project, external):
    mongo_project.makeini(PLAIN_INI)
    mongo_project.makeconftest("""
        from narrative_fixtures.services.mongodb.factories import (
            database_factory, mongo_client_factory, mongodb_server_factory)

        mongodb_second = mongodb_server_factory(name="second")
        second_client = mongo_client_factory("mongodb_second")
        second_db = database_factory(service="mongodb_second", client="second_client", models=())
    """)
    mongo_project.makepyfile("""
        import pytest

        @pytest.mark.asyncio
        async def test_two_servers(mongodb_service, mongodb_second, second_db, second_client, setup_database):
            assert (mongodb_service.mode, mongodb_second.mode) == ("external", "embedded")
            assert mongodb_second.url != mongodb_service.url and mongodb_second.instance == "second"
            assert (mongodb_second.host, mongodb_second.backend) == ("127.0.0.1", "FerretDB")
            assert mongodb_second.url == f"mongodb://127.0.0.1:{mongodb_second.port}/"
            await second_db.things.insert_one({"on": "second"})
            assert await second_client[second_db.name].things.count_documents({}) == 1
            assert "things" not in await setup_database.list_collection_names()
    """)
    result = mongo_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "120")
    result.assert_outcomes(passed=1)
    assert "things" not in external.narrative_test.list_collection_names(), "the run's server saw nothing of it"


def test_a_session_scoped_database_and_client(mongo_project, external):
    mongo_project.makeini(PLAIN_INI)
    mongo_project.makeconftest("""
        from narrative_fixtures.services.mongodb.factories import database_factory, mongo_client_factory

        session_client = mongo_client_factory(scope="session")
        shared_db = database_factory(name="shared_test", scope="session", models=(), client="session_client")
    """)
    mongo_project.makepyfile("""
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        @pytest.mark.parametrize("n", range(3))
        async def test_accumulates(shared_db, n):
            await shared_db.runs.insert_one({"n": n})
            assert await shared_db.runs.count_documents({}) == n + 1  # one database for the whole session
    """)
    mongo_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "120").assert_outcomes(passed=3)
    assert external.shared_test.runs.count_documents({}) == 0, "emptied when the session ended"


ENDPOINT_TESTS = """
import json, os

def test_record(mongodb_service):
    e = mongodb_service
    typed = dict(database=e.database, database_source=e.database_source, loopback=e.loopback, hosts=list(e.hosts),
                 storage=e.storage, pid=e.pid, mongodb_compat=e.mongodb_compat)
    out = dict(typed=typed, details=e.details, host=e.host, port=e.port, url=e.url, username=e.username,
               password=e.password, summary=e.summary(), repr=repr(e))
    with open(os.environ["RECORD"], "w") as f:
        json.dump(out, f)
"""


@pytest.mark.parametrize("mode", ["external", "embedded"])
def test_the_typed_attributes_equal_the_former_details(mongo_project, mode, tmp_path):
    import json

    from tests.mongodb_support import own_ferretdb_with_users

    record = tmp_path / "endpoint.json"
    mongo_project._monkeypatch.setenv("RECORD", str(record))
    mongo_project.makepyfile(ENDPOINT_TESTS)
    if mode == "embedded":
        mongo_project.runpytest_inprocess().assert_outcomes(passed=1)
    else:  # a server that wants credentials: the app under test gets them as attributes
        with own_ferretdb_with_users("app_user", "S3cret-Pa55") as url:
            url = url.replace("mongodb://", "mongodb://app_user:S3cret-Pa55@") + "orders_test?authSource=admin"
            mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", url)
            mongo_project.runpytest_inprocess().assert_outcomes(passed=1)
    seen = json.loads(record.read_text())
    typed, details = seen["typed"], seen["details"]
    assert details["allow_unsafe"] is False, "kept for old readers; the janitor reads the settings"
    if mode == "embedded":
        expected = {key: typed[key] for key in ("mongodb_compat", "storage", "pid", "database", "database_source",
                                                "loopback")}
        assert (seen["host"], seen["username"], seen["password"]) == ("127.0.0.1", None, None)
        assert (typed["storage"], typed["database"], typed["loopback"]) == ("SQLite", "narrative_test", True)
    else:
        expected = {key: typed[key] for key in ("mongodb_compat", "database", "database_source", "hosts",
                                                "loopback")}
        assert (seen["username"], seen["password"]) == ("app_user", "S3cret-Pa55")
        assert (typed["database"], typed["database_source"]) == ("orders_test", "TEST_MONGODB_URI")
        assert "S3cret-Pa55" not in seen["summary"] + seen["repr"]
    assert details == {**expected, "allow_unsafe": False}
    assert f"{seen['host']}:{seen['port']}/" in seen["url"]
    assert f", database {typed['database']})" in seen["summary"]
