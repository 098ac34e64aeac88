"""The Redis factory fixtures driven in-process, the test's own ``request`` given to them (no nested pytest, so a
mutation run sees the factories called by these tests): a server of the run's own started and stopped, a server at a
URL reached and claimed, a client's timeouts, name and cleaning, a dead server and a refused database in one line."""

from __future__ import annotations

import json

import pytest
import redis

from narrative_fixtures.services.redis import factories
from narrative_fixtures.services.redis.factories import redis_client_factory, redis_job_factory, redis_server_factory
from narrative_fixtures.services.redis.janitor import claim_name
from narrative_fixtures.services.redis.provider import SETTING, client_options
from tests.conftest import closed_port


def inner(fixture):
    return fixture._get_wrapped_function()


def made_servers(request) -> dict:
    return request.config.stash.get(factories._SERVERS, {})


@pytest.fixture
def own_server(request, redis_service, as_a_serial_run):
    """(endpoint, process, the generator) of ``redis_server_factory("mutants")`` as its fixture runs it (a serial
    run's, so its log and claims are named the same when this run is an xdist worker)."""
    running = inner(redis_server_factory("mutants"))(request)
    endpoint = next(running)
    yield endpoint, made_servers(request)[endpoint.url].process, running
    running.close()


@pytest.fixture
def at_url(request, own_server):
    """(endpoint, the generator) of ``redis_server_factory(url=<own_server's url>)``: someone else's Redis."""
    running = inner(redis_server_factory(url=own_server[0].url))(request)
    endpoint = next(running)
    yield endpoint, running
    running.close()


def test_a_named_server_is_the_run_s_own_started_for_the_fixture_and_stopped_after_it(request, redis_service,
                                                                                      as_a_serial_run):
    running = inner(redis_server_factory("mutants"))(request)
    endpoint = next(running)
    made = made_servers(request)[endpoint.url]
    assert endpoint.mode == "embedded" and endpoint.port != redis_service.port and endpoint.pid
    assert made.setting == SETTING and made.process.alive() and made.process.pid == endpoint.pid
    assert made.process.log_path.name == "redis-mutants.log"
    assert redis.Redis.from_url(endpoint.url).ping()
    with pytest.raises(StopIteration):
        next(running)
    assert endpoint.url not in made_servers(request) and not made.process.alive()


def test_no_name_and_no_url_is_the_run_s_server(request, redis_service):
    running = inner(redis_server_factory())(request)
    assert next(running) is redis_service
    with pytest.raises(StopIteration):
        next(running)


def test_a_server_at_a_url_is_reached_as_an_external_one_and_named_by_the_factory_call(request, own_server):
    running = inner(redis_server_factory(url=own_server[0].url))(request)
    endpoint = next(running)
    made = made_servers(request)[endpoint.url]
    assert endpoint.mode == "external" and endpoint.port == own_server[0].port and endpoint.details["allow_flush"] is False
    assert (made.setting, made.process) == ("redis_server_factory('', url=...)", None)
    running.close()
    assert endpoint.url not in made_servers(request) and own_server[1].alive(), "someone else's server is left running"


def test_an_unreachable_url_is_named_with_the_factory_call(request, monkeypatch, redis_service):
    decided = []
    real = factories.skip_or_fail
    monkeypatch.setattr(factories, "skip_or_fail", lambda *args: decided.append(args) or real(*args))
    running = inner(redis_server_factory("cache", url=f"redis://127.0.0.1:{closed_port()}/0"))(request)
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception)) as outcome:
        next(running)
    assert "redis_server_factory('cache', url=...)" in str(outcome.value)
    (who, problem, what), = decided
    assert who is request and what == "redis unavailable" and "redis_server_factory('cache', url=...)" in str(problem)


def test_a_named_server_without_redis_server_installed_says_to_give_the_factory_a_url(request, monkeypatch, tmp_path):
    from narrative_fixtures.services.common import registry_of

    monkeypatch.setattr(registry_of(request.config).context, "environment", {"PATH": str(tmp_path)})  # none there
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception)) as outcome:
        next(inner(redis_server_factory("mutants"))(request))
    assert "give redis_server_factory('mutants') a url= to use an external Redis" in str(outcome.value)


def test_a_server_at_a_url_gives_each_xdist_worker_a_database_of_its_own(request, monkeypatch, own_server):
    from narrative_fixtures.services.common import registry_of

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setattr(registry_of(request.config).context, "worker_id", "gw1")
    running = inner(redis_server_factory(url=own_server[0].url))(request)
    assert next(running).db == 1
    running.close()


class RedisOff:
    mode = "off"


def test_a_named_server_when_redis_is_off_asks_the_run_s_server_what_to_say(request, monkeypatch):
    asked = []

    def require_service(*args):
        asked.append(args)
        pytest.skip("redis is turned off")

    monkeypatch.setattr(factories, "settings_of", lambda config: {"redis": RedisOff()})
    monkeypatch.setattr(factories, "require_service", require_service)
    with pytest.raises(pytest.skip.Exception, match="redis is turned off"):
        next(inner(redis_server_factory("mutants"))(request))
    assert asked == [(request, "redis")]


# --- clients ------------------------------------------------------------------------------------------------------


async def open_client(request, fixture, **servers):
    running = inner(fixture)(request, **servers)
    return running, await running.__anext__()


async def close_client(running) -> None:
    with pytest.raises(StopAsyncIteration):
        await running.__anext__()


@pytest.mark.asyncio
async def test_a_client_of_a_server_of_the_run_s_own_is_unnamed_bounded_and_flushed_around_its_use(request, own_server):
    endpoint, _, _ = own_server
    redis.Redis.from_url(endpoint.url).set("left", "by an earlier test")
    running, client = await open_client(request, redis_client_factory("own"), own=endpoint)
    options = client.connection_pool.connection_kwargs
    assert (options["socket_connect_timeout"], options["socket_timeout"], options["client_name"]) == (1, 2, None)
    assert options["decode_responses"] is True and options["db"] == 0
    assert {key: options[key] for key in client_options()} == client_options(), "no CLIENT SETINFO round trips"
    assert await client.dbsize() == 0, "flushed before"
    await client.set("written", "by the test")
    await close_client(running)
    assert redis.Redis.from_url(endpoint.url).dbsize() == 0, "flushed after"


@pytest.mark.asyncio
async def test_a_client_on_another_database_selects_it(request, own_server):
    running, client = await open_client(request, redis_client_factory("own", db=4), own=own_server[0])
    await client.set("in", "four")
    assert (await client.client_info())["db"] == 4
    assert redis.Redis.from_url(own_server[0].url).dbsize() == 0
    await close_client(running)


@pytest.mark.asyncio
async def test_a_client_of_an_external_server_connects_under_the_run_s_claim(request, at_url):
    endpoint, _ = at_url
    running, client = await open_client(request, redis_client_factory("ext"), ext=endpoint)
    assert (await client.client_info())["name"].startswith("narrative-claim:")
    await client.set("written", "by the test")
    await close_client(running)
    assert redis.Redis.from_url(endpoint.url).dbsize() == 0, "the run's claimed database is flushed after"


@pytest.mark.asyncio
async def test_a_database_another_run_claims_is_refused_naming_the_factory_call(request, at_url):
    endpoint, _ = at_url
    other = redis.Redis.from_url(endpoint.url, client_name=claim_name("another-run", 1))
    other.ping()
    try:
        with pytest.raises(pytest.fail.Exception) as refused:
            await open_client(request, redis_client_factory("ext"), ext=endpoint)
    finally:
        other.close()
    assert "redis db 0 at redis_server_factory('', url=...)=" in str(refused.value)
    assert refused.value.pytrace is False


@pytest.mark.asyncio
async def test_keys_an_external_database_held_before_the_client_are_never_flushed(request, at_url):
    endpoint, _ = at_url
    redis.Redis.from_url(endpoint.url).set("sentinel", "not the run's")
    with pytest.raises(pytest.fail.Exception):
        await open_client(request, redis_client_factory("ext"), ext=endpoint)
    assert redis.Redis.from_url(endpoint.url).get("sentinel") == b"not the run's"


@pytest.mark.asyncio
async def test_a_database_another_run_claims_during_the_test_is_not_flushed_after_it(request, at_url):
    endpoint, _ = at_url
    running, client = await open_client(request, redis_client_factory("ext"), ext=endpoint)
    await client.set("written", "by the test")
    other = redis.Redis.from_url(endpoint.url, client_name=claim_name("another-run", 1))
    other.ping()
    try:
        with pytest.raises(pytest.fail.Exception, match="not flushed"):
            await running.__anext__()
    finally:
        other.close()
    assert redis.Redis.from_url(endpoint.url).get("written") == b"by the test"


@pytest.mark.asyncio
async def test_a_client_of_a_server_that_died_fails_at_once_naming_its_log(request, own_server):
    endpoint, process, _ = own_server
    process.stop()
    with pytest.raises(pytest.fail.Exception) as failed:
        await open_client(request, redis_client_factory("own"), own=endpoint)
    assert str(failed.value) == f"redis ({SETTING}): {process.describe_death()}"
    assert failed.value.pytrace is False


@pytest.mark.asyncio
async def test_allow_flush_reaches_the_server_at_a_url_and_the_claim_of_its_database(request, monkeypatch, own_server):
    from narrative_fixtures.services.common import settings_of

    monkeypatch.setitem(settings_of(request.config)["redis"].values, "allow_flush", "true")
    running = inner(redis_server_factory(url=own_server[0].url))(request)
    endpoint = next(running)
    assert endpoint.details["allow_flush"] is True
    clients, client = await open_client(request, redis_client_factory("ext"), ext=endpoint)
    claim = request.getfixturevalue("_redis_janitors").of(endpoint.url, 0, False)
    assert (claim.allow_flush, claim.db, claim.setting) == (True, 0, "redis_server_factory('', url=...)")
    await close_client(clients)
    running.close()


# --- jobs ---------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_job_is_stored_and_queued_then_both_removed(request, own_server):
    running, client = await open_client(request, redis_client_factory("own"), own=own_server[0])
    await client.rpush("cache_queue", "an earlier entry")
    jobs = inner(redis_job_factory("cache_client", queue="cache_queue", type="cache_warmup"))(cache_client=client)
    job = await jobs.__anext__()
    assert job["type"] == "cache_warmup"
    assert json.loads(await client.get(f"job:{job['job_id']}")) == job
    assert [json.loads(entry) for entry in await client.lrange("cache_queue", 0, 0)] == [job]
    await client.lpush("cache_queue", json.dumps(job))  # the same job queued twice: both entries are the fixture's
    with pytest.raises(StopAsyncIteration):
        await jobs.__anext__()
    assert await client.lrange("cache_queue", 0, -1) == ["an earlier entry"]
    assert await client.exists(f"job:{job['job_id']}") == 0
    await close_client(running)
