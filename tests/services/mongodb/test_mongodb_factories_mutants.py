"""The MongoDB factories called at test time and their fixture functions driven in-process with the test's own
``request`` (no nested pytest, so a mutation run sees these tests call them): the run's server claimed and watched,
another server started and stopped, a database emptied before and after, refused when its name is not a test's,
a client with the options asked, the models named. The nested runs of test_mongodb_factories.py show the same as a
user meets it."""

from __future__ import annotations

from types import SimpleNamespace

import pymongo
import pytest

from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.models import BatchJob, UserData
from narrative_fixtures.services.common import registry_of, worker_suffix
from narrative_fixtures.services.mongodb import factories
from narrative_fixtures.services.mongodb.factories import database_factory, mongo_client_factory, mongodb_server_factory

from tests.services.s3.factory_support import finish, inner


@pytest.fixture
def recorded(monkeypatch):
    """What the server factory's fixtures asked of the claims, the fidelity watch and the provider."""
    calls = []
    monkeypatch.setattr(factories, "claim_for_run", lambda *args: calls.append(("claim", *args)))
    monkeypatch.setattr(factories, "watch_fidelity", lambda config, endpoint: calls.append(("watch", config, endpoint)))
    return calls


def test_the_run_s_server_is_its_endpoint_watched_and_claimed(request, mongodb_service, recorded, monkeypatch):
    monkeypatch.setattr(factories, "_start_instance", lambda *args: pytest.fail("started another server"))
    fixture = mongodb_server_factory()
    endpoint = inner(fixture)(request)
    assert endpoint is mongodb_service
    assert recorded == [("watch", request.config, endpoint),
                        ("claim", request, endpoint, endpoint.database, endpoint.database_source, False)]
    assert inner(fixture).__doc__ == "The run's MongoDB server (see ``mongodb_service``)."


def test_another_server_is_started_watched_and_stopped_after(request, recorded, monkeypatch):
    stopped = []
    endpoint = SimpleNamespace(url="mongodb://127.0.0.1:1/")
    process = SimpleNamespace(stop=lambda: stopped.append(True))
    started = []
    monkeypatch.setattr(factories, "_start_instance",
                        lambda req, name: started.append((req, name)) or (endpoint, process))
    fixture = mongodb_server_factory(name="other", scope="module")
    running = inner(fixture)(request)
    assert next(running) is endpoint
    assert started == [(request, "other")] and recorded == [("watch", request.config, endpoint)] and not stopped
    finish(running)
    assert stopped == [True]
    assert inner(fixture).__doc__ == ("Another embedded FerretDB ('other', module scope), stopped after; skips when"
                                      " unavailable (strict: fails).")
    assert inner(mongodb_server_factory(name="x", doc="Mine.")).__doc__ == "Mine."


def test_another_server_comes_from_the_provider_in_the_run_s_context(request, monkeypatch):
    asked = []
    monkeypatch.setattr(factories.PROVIDER, "start_embedded",
                        lambda context, instance=None: asked.append((context, instance)) or "started")
    assert factories._start_instance(request, "other") == "started"
    assert asked == [(registry_of(request.config).context, "other")]


@pytest.mark.parametrize("problem", [ServiceUnavailable("no go on PATH"), ConfigError("bad setting")])
def test_another_server_that_cannot_start_skips_or_fails_naming_it(request, monkeypatch, problem):
    def refuse(context, instance=None):
        raise problem

    decided = []
    monkeypatch.setattr(factories.PROVIDER, "start_embedded", refuse)
    monkeypatch.setattr(factories, "skip_or_fail", lambda *args: decided.append(args))
    assert factories._start_instance(request, "other") is None
    assert decided == [(request, problem, "mongodb server 'other' unavailable")]


def test_models_are_classes_or_names_and_a_bad_name_fails_in_one_line():
    assert factories._models((UserData, "narrative_fixtures.models:BatchJob"), "orders") == [UserData, BatchJob]
    with pytest.raises(pytest.fail.Exception) as failed:
        factories._models(("narrative_fixtures.models:Nothing",), "database_factory(name='orders')")
    assert failed.value.msg.startswith("database_factory(name='orders'), models: cannot import")
    assert failed.value.pytrace is False


def _documents(client, database: str) -> dict:
    return {name: client[database][name].count_documents({}) for name in client[database].list_collection_names()
            if name != "narrative_fixtures_claim"}


@pytest.mark.asyncio
async def test_a_named_database_starts_empty_whoever_wrote_and_is_emptied_after(request, mongodb_service):
    name = f"factory_mutants_test{worker_suffix()}"
    sync = pymongo.MongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000)
    try:
        sync[name].left.insert_one({"from": "an app, before the test"})
        fixture = database_factory(name="factory_mutants_test", models=())
        running = inner(fixture)(request, mongodb_service=mongodb_service)
        database = await running.__anext__()
        assert database.name == name and _documents(sync, name) == {"left": 0}
        await database.notes.insert_one({"n": 1})
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
        assert _documents(sync, name) == {"left": 0, "notes": 0}
        assert "(``factory_mutants_test`` on ``mongodb_service``'s server, function scope)" in inner(fixture).__doc__
    finally:
        sync.drop_database(name)
        sync.close()


@pytest.mark.asyncio
async def test_a_database_with_models_binds_them_to_it(request, mongodb_service, mongo_client):
    fixture = database_factory(name="bound_mutants_test", models=[UserData], client="mongo_client")
    running = inner(fixture)(request, mongodb_service=mongodb_service, mongo_client=mongo_client)
    database = await running.__anext__()
    try:
        assert database.name == f"bound_mutants_test{worker_suffix()}"
        assert UserData.get_pymongo_collection().database.name == database.name
        assert "user_uploads" in await database.user_data.index_information()
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
        await mongo_client.drop_database(database.name)


@pytest.mark.asyncio
async def test_a_database_without_a_test_name_is_refused_naming_its_factory(request, mongodb_service):
    running = inner(database_factory(name="orders", models=()))(request, mongodb_service=mongodb_service)
    with pytest.raises(pytest.fail.Exception) as refused:
        await running.__anext__()
    assert refused.value.msg.startswith(f"refusing to clean MongoDB database 'orders{worker_suffix()}'")
    assert "database_factory(name='orders')" in refused.value.msg


@pytest.mark.asyncio
async def test_a_client_has_the_options_asked_beside_the_plugin_s(request, mongodb_service):
    fixture = mongo_client_factory(serverSelectionTimeoutMS=1234)
    running = inner(fixture)(request, mongodb_service=mongodb_service)
    client = await running.__anext__()
    assert client.options.server_selection_timeout == 1.234
    assert client.codec_options.tz_aware is True
    assert client.options.pool_options.connect_timeout == factories.SELECTION_TIMEOUT_MS / 1000
    assert client.options.pool_options.metadata["application"] == {"name": "narrative-acceptance"}
    assert await client[mongodb_service.database].command("ping") == {"ok": 1.0}
    with pytest.raises(StopAsyncIteration):
        await running.__anext__()
    assert inner(fixture).__doc__.startswith("A PyMongo ``AsyncMongoClient`` to ``mongodb_service``'s server"
                                             " (function scope)")


def test_a_wider_client_gets_a_loop_as_long_its_doc_and_its_module():
    fixture = mongo_client_factory(scope="module")
    assert fixture._fixture_function_marker.scope == "module"
    assert fixture._get_wrapped_function()._loop_scope == "module"
    assert mongo_client_factory(loop_scope="session")._get_wrapped_function()._loop_scope == "session"
    # the module that called the factory (this one; mutmut's trampoline under a mutation run): the reference names it
    assert isinstance(inner(fixture).__module__, str)
    assert inner(fixture).__doc__ == (
        "A PyMongo ``AsyncMongoClient`` to ``mongodb_service``'s server (module scope); the test database is the"
        " endpoint's ``database``. One per event loop: kept for the next test while a wider loop lives (closed when"
        " its scope ends), else closed after the test (core.loop_clients).")


def test_a_database_asks_only_for_the_fixtures_it_uses():
    import inspect

    def needs(fixture) -> list[str]:
        return list(inspect.signature(inner(fixture)).parameters)

    assert needs(database_factory(name="a_test", models=())) == ["request", "mongodb_service"]
    assert needs(database_factory(client="mongo_client")) == ["request", "mongodb_service", "mongo_client",
                                                              "beanie_document_models"]


def test_a_database_says_which_it_is_in_its_doc():
    rest = (" with Beanie initialised, empty when it starts (no document; the models' indexes as Beanie makes them,"
            " no other) and emptied after (when the next test of the module sets it up too, by that set-up: one pass);"
            " refuses a non-test name, a remote server or an unclaimed database.")
    assert inner(database_factory()).__doc__ == (
        "An ``AsyncDatabase`` (the test database on ``mongodb_service``'s server, function scope)" + rest)
    assert inner(database_factory(name="orders_test", scope="module", models=())).__doc__ == (
        "An ``AsyncDatabase`` (``orders_test`` on ``mongodb_service``'s server, module scope)" + rest)


@pytest.mark.asyncio
async def test_a_database_whose_models_cannot_be_imported_fails_naming_its_factory(request, mongodb_service):
    fixture = database_factory(name="models_mutants_test", models=["narrative_fixtures.models:Nothing"])
    running = inner(fixture)(request, mongodb_service=mongodb_service)
    with pytest.raises(pytest.fail.Exception) as failed:
        await running.__anext__()
    assert failed.value.msg.startswith("database_factory(name='models_mutants_test'), models: cannot import"), (
        failed.value.msg)


def test_a_wider_database_gets_a_loop_as_long_and_names_a_module():
    fixture = database_factory(scope="module", models=())
    assert fixture._get_wrapped_function()._loop_scope == "module"
    assert isinstance(inner(fixture).__module__, str)
    assert database_factory(loop_scope="session", models=())._get_wrapped_function()._loop_scope == "session"


@pytest.mark.asyncio
async def test_a_database_given_a_client_fixture_uses_that_client(request, mongodb_service):
    own = pymongo.AsyncMongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000)  # not the pooled one
    running = inner(database_factory(name="given_client_test", models=(), client="own_client"))(
        request, mongodb_service=mongodb_service, own_client=own)
    database = await running.__anext__()
    try:
        assert database.client is own
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
        await own.drop_database(database.name)
        await own.close()


def test_the_janitor_client_is_the_run_s_one(request, mongodb_service):
    janitor = factories._janitor(request, mongodb_service)
    assert factories._janitor(request, mongodb_service) is janitor
    assert request.config.stash[factories._JANITORS][mongodb_service.url] is janitor


@pytest.mark.asyncio
async def test_indexes_are_made_once_then_only_bound_and_made_again_when_their_collection_went(
        request, mongodb_service, mongo_client, monkeypatch):
    import uuid

    import beanie

    calls = []
    real = beanie.init_beanie

    async def spy(**arguments):
        calls.append(arguments)
        await real(**arguments)

    monkeypatch.setattr(beanie, "init_beanie", spy)
    name = f"indexes_{uuid.uuid4().hex[:8]}_test"
    database, janitor = mongo_client[name], factories._janitor(request, mongodb_service)[name]
    try:
        for _ in range(2):
            assert await factories._prepared(request, database, janitor, mongodb_service, [UserData]) is database
        # the first builds the indexes; the second finds them all and only binds the class (binding.bind)
        assert calls == [{"database": database, "document_models": [UserData]}]
        assert UserData.get_pymongo_collection().database is database
        key = (mongodb_service.url, name, ("narrative_fixtures.models.UserData",))
        built = request.config.stash[factories._INDEXED][key]
        assert set(built) == {"user_data"} and set(built["user_data"]) == {"_id_", "user_uploads"}
        await database.drop_collection("user_data")
        calls.clear()
        await factories._prepared(request, database, janitor, mongodb_service, [UserData])
        assert calls == [{"database": database, "document_models": [UserData]}]
        assert "user_uploads" in await database.user_data.index_information()
    finally:
        await mongo_client.drop_database(name)


def test_allow_unsafe_is_the_service_s_setting(monkeypatch):
    flags = SimpleNamespace(flag=lambda key: key == "allow_unsafe")
    monkeypatch.setattr(factories, "settings_of", lambda config: {"mongodb": flags} if config == "cfg" else {})
    assert factories._allow_unsafe(SimpleNamespace(config="cfg")) is True


def test_only_the_run_s_own_server_is_asked_again(request, monkeypatch):
    asked = []
    monkeypatch.setattr(factories, "require_service", lambda req, name: asked.append((req, name)))
    factories._still_there(request, SimpleNamespace(instance=None))
    assert asked == [(request, "mongodb")]
    factories._still_there(request, SimpleNamespace(instance="other"))  # a factory's server fails at its command
    assert asked == [(request, "mongodb")]


def test_a_target_refused_by_the_claim_fails_with_its_reason_in_one_line(request, mongodb_service, monkeypatch):
    claims = []
    monkeypatch.setattr(factories, "claim_for_run", lambda *args: claims.append(args) or "claimed by another run")
    with pytest.raises(pytest.fail.Exception) as refused:
        factories._check_target(request, mongodb_service, "orders_test", "TEST_MONGODB_DB")
    assert (refused.value.msg, refused.value.pytrace) == ("claimed by another run", False)
    assert claims == [(request, mongodb_service, "orders_test", "TEST_MONGODB_DB", False)]


def test_allow_unsafe_lets_a_non_test_name_through_to_the_claim(request, mongodb_service, monkeypatch):
    claims = []
    monkeypatch.setattr(factories, "_allow_unsafe", lambda req: True)
    monkeypatch.setattr(factories, "claim_for_run", lambda *args: claims.append(args))
    factories._check_target(request, mongodb_service, "orders", "TEST_MONGODB_DB")
    assert claims == [(request, mongodb_service, "orders", "TEST_MONGODB_DB", True)]


@pytest.mark.asyncio
async def test_clients_are_pooled_per_options_and_a_closed_one_is_replaced(request, mongodb_service):
    async with factories._client(request, mongodb_service, {}) as first:
        pass
    async with factories._client(request, mongodb_service, {}) as again:
        assert again is first, "the session's loop keeps one client per server and options"
    async with factories._client(request, mongodb_service, {"maxPoolSize": 3}) as other:
        assert other is not first and other.options.pool_options.max_pool_size == 3
    await first.close()
    async with factories._client(request, mongodb_service, {}) as replaced:
        assert replaced is not first and await replaced.admin.command("ping") == {"ok": 1.0}


def test_the_janitor_waits_as_long_as_the_probe_and_is_closed_before_the_servers_stop(mongodb_service):
    from narrative_fixtures.core.registry import ServiceRegistry
    from narrative_fixtures.services.common import REGISTRY_KEY
    from tests.mongodb_support import settings

    run = SimpleNamespace(config=SimpleNamespace(stash=pytest.Stash()))
    registry = run.config.stash[REGISTRY_KEY] = ServiceRegistry(settings(), {}, "master")
    janitor = factories._janitor(run, mongodb_service)
    assert janitor.options.server_selection_timeout == factories.SELECTION_TIMEOUT_MS / 1000
    assert len(registry._before_stop) == 1 and not janitor._closed
    registry.close()
    assert janitor._closed and run.config.stash[factories._JANITORS] == {}
