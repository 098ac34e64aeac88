"""The Redis fixture factories as another project uses them: its conftest makes a second database, another server
and a session-scoped client beside the story's fixtures; each is isolated from them and cleaned by the same rules."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
import redis

from tests.conftest import closed_port

FACTORY_CONFTEST = """
from narrative_fixtures.services.redis import redis_client_factory, redis_job_factory, redis_server_factory

redis_jobs = redis_client_factory(db=3)
redis_cache = redis_server_factory("cache")
redis_cache_client = redis_client_factory("redis_cache")
cache_job = redis_job_factory("redis_cache_client", queue="cache_queue", type="cache_warmup")
"""


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """(endpoint, process) of a redis-server of this module's own, acting as an external Redis."""
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path_factory.mktemp("logs"))}, Path("/"))
    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint, process
    process.stop()


def test_a_second_database_from_the_factory_is_isolated_from_the_story_client(project):
    project.makeconftest(FACTORY_CONFTEST)
    project.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_1_both_start_empty_and_stay_apart(redis_client, redis_jobs, redis_service):
            assert await redis_client.dbsize() == 0 and await redis_jobs.dbsize() == 0
            await redis_jobs.set("only", "in db 3")
            assert await redis_client.get("only") is None
            assert (await redis_jobs.client_info())["db"] == 3 and redis_service.db == 0

        @pytest.mark.asyncio
        async def test_2_the_second_database_was_emptied(redis_jobs):
            assert await redis_jobs.keys("*") == []
        """
    )
    project.runpytest_subprocess("-p", "no:randomly", "--require-services").assert_outcomes(passed=2)


def test_another_server_from_the_factory_has_its_own_port_log_and_end(project):
    project.makeconftest(FACTORY_CONFTEST)
    project.makepyfile(
        """
        import json, pytest

        @pytest.mark.asyncio
        async def test_two_servers(redis_client, redis_service, redis_cache, redis_cache_client, cache_job):
            assert redis_cache.port != redis_service.port and redis_cache.password != redis_service.password
            assert redis_cache.mode == "embedded" and redis_cache.pid and redis_cache.version == redis_service.version
            assert json.loads(await redis_cache_client.lindex("cache_queue", 0))["type"] == "cache_warmup"
            assert await redis_client.dbsize() == 0, "the job went to the other server"
            open("pid", "w").write(str(redis_cache.pid))
        """
    )
    result = project.runpytest_subprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=1)
    pid = int((project.path / "pid").read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert list((project.path / "reports" / "services").glob("run-*/redis-cache.log"))


def test_a_session_scoped_client_keeps_its_keys_across_its_tests(project):
    project.makeconftest(
        """
        from narrative_fixtures.services.redis import redis_client_factory

        redis_shared = redis_client_factory(db=2, scope="session")
        """
    )
    project.makepyfile(  # one event loop for the whole run, as a session-scoped async client needs
        """
        import pytest

        pytestmark = pytest.mark.asyncio

        async def test_1_writes(redis_shared, redis_client):
            assert await redis_shared.dbsize() == 0
            await redis_shared.set("shared", "kept")

        async def test_2_reads_what_test_1_wrote(redis_shared, redis_client):
            assert await redis_shared.get("shared") == "kept"
            assert await redis_client.dbsize() == 0
        """
    )
    loops = ["-o", "asyncio_default_fixture_loop_scope=session", "-o", "asyncio_default_test_loop_scope=session"]
    project.runpytest_subprocess("-p", "no:randomly", "--require-services", *loops).assert_outcomes(passed=2)


def test_a_factory_database_on_an_external_redis_is_claimed_and_never_flushed_with_foreign_keys(project, own_server):
    endpoint, _process = own_server
    owner = redis.Redis.from_url(endpoint.url_for(3), decode_responses=True)
    owner.set("customer:42", "precious")
    owner.connection_pool.disconnect()  # gone before the run: only its key shows it was there
    try:
        project.makeconftest(FACTORY_CONFTEST)
        project.makepyfile(
            """
            import pytest

            @pytest.mark.asyncio
            async def test_uses_db_3(redis_jobs):
                await redis_jobs.ping()
            """
        )
        project._monkeypatch.setenv("TEST_REDIS_URL", endpoint.url)
        result = project.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*redis db 3 at TEST_REDIS_URL=redis://:***@*/3 holds 1 keys this run did not*"])
        assert owner.get("customer:42") == "precious"
        assert endpoint.password not in result.stdout.str()
    finally:
        owner.flushdb()
        owner.close()


def test_a_server_given_by_url_is_reached_like_the_external_one_and_named_when_unreachable(project, own_server):
    endpoint, _process = own_server
    project.makeconftest(
        f"""
        from narrative_fixtures.services.redis import redis_client_factory, redis_server_factory

        redis_other = redis_server_factory("other", url={endpoint.url_for(4)!r})
        redis_gone = redis_server_factory("gone", url="redis://127.0.0.1:{closed_port()}/0")
        other_client = redis_client_factory("redis_other")
        """
    )
    project.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_other(redis_other, other_client):
            assert (redis_other.mode, redis_other.db) == ("external", 4)
            await other_client.set("k", "v")

        def test_gone(redis_gone):
            pass
        """
    )
    result = project.runpytest_subprocess("-p", "no:randomly", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*redis unavailable: cannot reach Redis at redis_server_factory('gone', url=...)=*"])
    assert redis.Redis.from_url(endpoint.url_for(4)).dbsize() == 0, "the claimed database was emptied after use"


def test_the_typed_endpoint_equals_the_deprecated_details(project, own_server):
    endpoint, _process = own_server
    check = """
        def test_typed(redis_service):
            details = redis_service.details
            assert redis_service.db == details["db"]
            if redis_service.mode == "embedded":
                assert redis_service.pid == details["pid"] and set(details) == {"pid", "db"}
            else:
                assert redis_service.pid is None and set(details) == {"db", "allow_flush"}
            assert redis_service.password and redis_service.password in redis_service.url
            assert f"{redis_service.host}:{redis_service.port}" in redis_service.url
            assert redis_service.password not in repr(redis_service)
        """
    project.makepyfile(check)
    project.runpytest_subprocess("--require-services").assert_outcomes(passed=1)
    project._monkeypatch.setenv("TEST_REDIS_URL", endpoint.url_for(6))
    project.runpytest_subprocess("--require-services").assert_outcomes(passed=1)


def test_endpoint_attributes_come_from_the_url():
    from narrative_fixtures.services.redis import RedisEndpoint

    endpoint = RedisEndpoint("redis", "external", "rediss://app:s%40cret@cache.example:6390/5?x=1", "redis-server", "7")
    assert (endpoint.host, endpoint.port, endpoint.db, endpoint.tls) == ("cache.example", 6390, 5, True)
    assert (endpoint.username, endpoint.password) == ("app", "s@cret")
    assert endpoint.url_for(7) == "rediss://app:s%40cret@cache.example:6390/7?x=1"
    assert "s%40cret" not in repr(endpoint) and "s@cret" not in repr(endpoint)
    query = RedisEndpoint("redis", "external", "redis://h/1?password=pw123&db=2", "redis-server", "7")
    assert (query.db, query.password, query.port) == (2, "pw123", 6379)
    assert "pw123" not in endpoint.summary() and "pw123" not in query.summary()


@pytest.mark.parametrize(
    ("url_db", "worker", "workers", "asked", "expected"),
    [
        (0, "master", 1, 5, 5),  # serial: the database asked for
        (0, "gw0", 2, 1, 2),  # worker 0 of 2: base + 1 * 2 + 0
        (1, "gw1", 2, 1, 3),  # worker 1 of 2 (its URL database is base 0 + 1): never worker 0's database 2
        (10, "gw3", 4, 2, 6),  # base 7: wraps inside the 16 databases, (10 + (2 - 7) * 4) % 16, beside no story one
    ],
)
def test_factory_databases_on_an_external_server_are_spread_per_worker(monkeypatch, url_db, worker, workers, asked,
                                                                       expected):
    from narrative_fixtures.services.redis import RedisEndpoint, worker_database

    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    endpoint = RedisEndpoint("redis", "external", f"redis://h:6379/{url_db}", "redis-server", "7")
    assert worker_database(endpoint, asked) == expected
    for reuse in ("shared", "reused", "left running"):  # one server the workers share (the run's set, or reused)
        shared = RedisEndpoint("redis", "embedded", f"redis://h:6379/{url_db}", "redis-server", "7", reuse=reuse)
        assert worker_database(shared, asked) == expected, reuse
    embedded = RedisEndpoint("redis", "embedded", f"redis://h:6379/{url_db}", "redis-server", "7")
    assert worker_database(embedded, asked) == asked, "each worker has an embedded server of its own"


def test_a_bad_database_index_is_one_line_naming_the_factory():
    from narrative_fixtures.errors import ConfigError
    from narrative_fixtures.services.redis import redis_client_factory

    with pytest.raises(ConfigError, match=r"redis_client_factory\(db=-1\): a Redis database index"):
        redis_client_factory(db=-1)


def test_factory_fixtures_are_documented_where_they_are_made():
    from narrative_fixtures.reference import discover

    docs = {doc.name: doc for doc in discover(["narrative_fixtures.services.redis.fixtures"])}
    assert list(docs) == ["redis_service", "redis_client", "test_redis_job"]
    assert docs["redis_client"].needs == ("redis_service",) and docs["redis_client"].is_async
    assert docs["test_redis_job"].needs == ("redis_client",) and docs["redis_service"].scope == "session"
    assert all(1 <= len(doc.doc_lines) <= 3 for doc in docs.values())
