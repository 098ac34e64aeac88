"""What a RedisEndpoint reads from its URL, and the URLs it gives out: direct calls, no server needed."""

from __future__ import annotations

from narrative_fixtures.services.redis.endpoint import RedisEndpoint, database_of


def endpoint(url: str) -> RedisEndpoint:
    return RedisEndpoint(service="redis", mode="external", url=url, backend="Redis", version="7.2")


def test_a_url_without_a_host_gives_an_empty_host_and_the_default_port():
    made = endpoint("redis:///2")
    assert (made.host, made.port, made.db) == ("", 6379, 2)


def test_the_user_and_password_may_come_from_the_query_as_redis_py_reads_them():
    made = endpoint("redis://127.0.0.1:6390/1?username=bob&password=s3cret")
    assert (made.username, made.password, made.port, made.db, made.tls) == ("bob", "s3cret", 6390, 1, False)


def test_the_user_and_password_in_the_url_are_unquoted():
    made = endpoint("rediss://al%40ce:p%2Fw@cache.example:6380/0")
    assert (made.username, made.password, made.host, made.tls) == ("al@ce", "p/w", "cache.example", True)


def test_no_user_at_all_is_none():
    made = endpoint("redis://127.0.0.1:6379/0")
    assert made.username is None and made.password is None


def test_another_run_of_the_plugin_is_pointed_at_the_same_url():
    url = "redis://:pw@127.0.0.1:6390/4"
    assert endpoint(url).settings_environment() == {"TEST_REDIS_URL": url}
    assert endpoint(url).environment() == {"REDIS_URL": url}


def test_url_for_selects_the_database_and_keeps_every_other_parameter_blank_ones_too():
    made = endpoint("redis://:pw@127.0.0.1:6390/1?db=1&protocol=3&client_name=&ssl_cert_reqs=none")
    assert made.url_for(5) == "redis://:pw@127.0.0.1:6390/5?protocol=3&client_name=&ssl_cert_reqs=none"
    assert database_of(made.url_for(5)) == 5


def test_url_for_without_a_query_selects_the_database_in_the_path():
    assert endpoint("redis://127.0.0.1:6390").url_for(3) == "redis://127.0.0.1:6390/3"


def test_the_database_is_the_query_s_then_the_path_s_then_0():
    assert database_of("redis://127.0.0.1:6390/7?db=2") == 2
    assert database_of("redis://127.0.0.1:6390/7") == 7
    assert database_of("redis://127.0.0.1:6390") == 0
    assert database_of("redis://127.0.0.1:6390/") == 0
    assert endpoint("redis://127.0.0.1:6390").db == 0
