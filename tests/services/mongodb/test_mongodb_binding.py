"""Beanie bound to each test's database (services/mongodb/binding.py): ``init_beanie`` once, then only the binding,
and ``init_beanie`` again whenever a class is not as that call left it. Each test binds to fresh databases on the
run's server and drops them after; a document written through the class shows where it is bound."""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio
from beanie import Document

from narrative_fixtures.models import BatchJob, UserData
from narrative_fixtures.services.mongodb import binding
from narrative_fixtures.services.mongodb.documents import sample_user_data


class Cached(Document):
    """A class that caches query results (Beanie's ``use_cache``)."""

    label: str

    class Settings:
        name = "cached_things"
        use_cache = True


@pytest_asyncio.fixture
async def databases(mongodb_service):
    """Three fresh databases, each on a client of its own (a test's new event loop has a new client)."""
    from pymongo import AsyncMongoClient

    clients = [AsyncMongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000) for _ in range(3)]
    found = [client[f"binding_{uuid.uuid4().hex[:8]}_test"] for client in clients]
    yield found
    for client, database in zip(clients, found):
        await client.drop_database(database.name)
        await client.close()


async def _stored_in(database) -> int:
    """Insert a UserData through the class; how many the collection of ``database`` then holds."""
    await UserData(**sample_user_data()).insert()
    return await database.user_data.count_documents({})


@pytest.mark.asyncio
async def test_the_first_bind_initialises_the_next_only_binds_with_beanie_s_setters(mongodb_service, databases):
    first, second, _ = databases
    await binding.bind(first, [UserData, BatchJob], mongodb_service.url, build_indexes=True)
    calls = binding.init_calls
    await binding.bind(second, [UserData, BatchJob], mongodb_service.url)
    assert binding.init_calls == calls  # no init_beanie: the classes were as the first call left them
    assert UserData.get_pymongo_collection().database is second and BatchJob.get_settings().pymongo_db is second
    assert await _stored_in(second) == 1 and await first.user_data.count_documents({}) == 0


@pytest.mark.asyncio
async def test_a_class_someone_else_initialised_since_is_initialised_again(mongodb_service, databases):
    from beanie import init_beanie

    first, second, third = databases
    await binding.bind(first, [UserData], mongodb_service.url)
    await init_beanie(database=second, document_models=[UserData], skip_indexes=True)  # the app's own init
    calls = binding.init_calls
    await binding.bind(third, [UserData], mongodb_service.url)
    assert binding.init_calls == calls + 1
    assert await _stored_in(third) == 1 and await second.user_data.count_documents({}) == 0


@pytest.mark.asyncio
async def test_another_server_or_a_renamed_collection_is_initialised_again(mongodb_service, databases, monkeypatch):
    first, second, third = databases
    await binding.bind(first, [UserData], mongodb_service.url)
    calls = binding.init_calls
    await binding.bind(second, [UserData], mongodb_service.url + "?another")  # what the binding keys servers on
    assert binding.init_calls == calls + 1
    monkeypatch.setattr(UserData.get_settings(), "name", "renamed_by_a_test")
    await binding.bind(third, [UserData], mongodb_service.url + "?another")
    assert binding.init_calls == calls + 2


@pytest.mark.asyncio
async def test_a_class_that_caches_gets_a_fresh_cache_at_each_binding(mongodb_service, databases):
    first, second, _ = databases
    await binding.bind(first, [Cached], mongodb_service.url)
    await Cached(label="in the first test").insert()
    assert len(await Cached.find_all().to_list()) == 1  # now in the cache
    cache = Cached._cache
    await binding.bind(second, [Cached], mongodb_service.url)
    assert Cached._cache is not cache
    assert await Cached.find_all().to_list() == []  # the second test's empty database, not the cache


@pytest.mark.asyncio
async def test_views_union_documents_and_time_series_are_never_only_bound(mongodb_service, databases):
    from beanie import UnionDoc, View

    await binding.bind(databases[0], [UserData], mongodb_service.url)  # settings of its own, whatever ran before

    class Report(View):
        class Settings:
            source = UserData
            pipeline = []

    class Parent(UnionDoc):
        class Settings:
            name = "parents"

    for model in (Report, Parent):
        binding._LEFT[model] = binding._Left(getattr(model, "_document_settings", None), "server", "name")
        assert not binding._as_left(model, "server")
    settings = UserData.get_settings()
    binding._LEFT[UserData] = binding._Left(settings, "server", settings.name)
    assert binding._as_left(UserData, "server")
    for field, value in (("union_doc", Parent), ("timeseries", object())):
        original = getattr(settings, field)
        object.__setattr__(settings, field, value)
        try:
            assert not binding._as_left(UserData, "server"), field
        finally:
            object.__setattr__(settings, field, original)
    del binding._LEFT[UserData]
