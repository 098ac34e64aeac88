"""What the Redis fixture factories declare, called in the test (no nested pytest): each fixture's scope, loop scope,
the fixtures it needs, the reference text it gets, and the arguments it refuses. The fixtures at work are tested in
test_redis_factories.py (as a project uses them) and test_redis_factory_fixtures.py (driven in-process)."""

from __future__ import annotations

import inspect

import pytest

from narrative_fixtures.errors import ConfigError
from narrative_fixtures.services.redis.factories import redis_client_factory, redis_job_factory, redis_server_factory


def declared(fixture):
    """(the function pytest calls, its scope, its pytest-asyncio loop scope or None)."""
    function = fixture._get_wrapped_function()
    return function, fixture._fixture_function_marker.scope, getattr(fixture, "_loop_scope", None)


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def belongs_to_a_module(function) -> bool:
    # The caller's module; not compared by name: under a mutation run mutmut's trampoline is the factory's caller.
    return isinstance(function.__module__, str) and bool(function.__module__)


def test_the_run_s_server_is_a_session_fixture_with_the_story_s_reference_text():
    function, scope, loop_scope = declared(redis_server_factory())
    assert (scope, loop_scope, parameters(function)) == ("session", None, ["request"])
    assert function.__doc__.startswith("The run's Redis endpoint: a real redis-server started on first use")
    assert belongs_to_a_module(function)


def test_another_server_of_the_run_s_own_is_named_in_its_reference_text():
    function, scope, _ = declared(redis_server_factory("cache", scope="module"))
    assert scope == "module" and belongs_to_a_module(function)
    assert function.__doc__.startswith("Another Redis server, ``cache``: a redis-server of the run's own")
    assert "stopped at the end of its module scope" in function.__doc__


def test_a_server_at_a_url_names_the_factory_call_in_its_reference_text():
    function, scope, _ = declared(redis_server_factory(url="redis://127.0.0.1:6390/0"))
    assert scope == "session"
    assert function.__doc__.startswith("The Redis at the URL given to redis_server_factory('', url=...) (a")
    named, _, _ = declared(redis_server_factory("cache", url="redis://127.0.0.1:6390/0"))
    assert named.__doc__.startswith("The Redis at the URL given to redis_server_factory('cache', url=...) (a")


@pytest.mark.parametrize("db", [0, 1, 15])
def test_any_database_index_from_0_is_accepted(db):
    function, _, _ = declared(redis_client_factory(db=db))
    assert f"database {db} of ``redis_service``" in function.__doc__


@pytest.mark.parametrize("db", [-1, "3", 2.0])
def test_a_database_that_is_not_an_index_is_refused_in_one_line_naming_it(db):
    with pytest.raises(ConfigError) as refused:
        redis_client_factory(db=db)
    assert str(refused.value) == f"redis_client_factory(db={db!r}): a Redis database index is a number, 0 or more"


def test_the_story_s_client_needs_the_run_s_server_and_is_flushed_around_each_test():
    function, scope, loop_scope = declared(redis_client_factory())
    assert (scope, loop_scope, parameters(function)) == ("function", None, ["request", "redis_service"])
    assert function.__doc__.startswith(
        "An async ``redis.asyncio`` client (str responses) on a database flushed before and after the test.\n"
    )
    assert "TEST_REDIS_ALLOW_FLUSH" in function.__doc__ and belongs_to_a_module(function)


def test_a_client_of_another_server_names_the_server_its_database_and_its_scope():
    function, scope, loop_scope = declared(redis_client_factory("redis_cache", scope="module", loop_scope="module"))
    assert (scope, loop_scope, parameters(function)) == ("module", "module", ["request", "redis_cache"])
    assert function.__doc__.startswith(
        "An async ``redis.asyncio`` client (str responses) on the database of ``redis_cache`` flushed before and"
        " after its module scope.\n"
    )
    numbered, _, _ = declared(redis_client_factory("redis_cache", db=3))
    assert " on database 3 of ``redis_cache`` flushed before and after the test." in numbered.__doc__


def test_the_story_s_job_needs_the_story_s_client_and_no_request():
    function, scope, loop_scope = declared(redis_job_factory())
    assert (scope, loop_scope, parameters(function)) == ("function", None, ["redis_client"])
    assert function.__doc__.startswith(
        "A pending job, JSON-serialised and pushed with LPUSH onto ``job_queue`` and stored at ``job:<id>``.\n"
    )
    assert inspect.isasyncgenfunction(function) and belongs_to_a_module(function)


def test_a_job_through_another_client_names_it_and_its_queue():
    function, scope, _ = declared(redis_job_factory("redis_cache_client", queue="cache_queue", scope="module"))
    assert (scope, parameters(function)) == ("module", ["redis_cache_client"])
    assert function.__doc__.startswith(
        "A pending job, JSON-serialised and pushed with LPUSH onto ``cache_queue`` and stored at ``job:<id>``"
        " through ``redis_cache_client``.\n"
    )
