"""A Redis password given only in the URL's query string (redis-py's ``?password=``) never reaches the terminal.

A real redis-server with ``requirepass``; runs that pass under xdist (the per-worker URL rewrite keeps the
password), that fail, that are refused, and that give a wrong password; their whole output is searched for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from narrative_fixtures.core.masking import url_password

TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(4))
async def test_passes_on_every_worker(redis_client, redis_service, n):
    await redis_client.set(f"k{n}", n)
    assert await redis_client.get(f"k{n}") == str(n)

@pytest.mark.asyncio
async def test_fails_showing_the_client_and_the_endpoint(redis_client, redis_service):
    assert await redis_client.get("missing") == "present", (redis_client, redis_service, redis_service.details)

def test_fails_showing_the_masked_url(redis_service):
    assert redis_service.masked_url is None
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(host:port, password) of a redis-server of this module's own with a generated ``requirepass``."""
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path_factory.mktemp("logs"))}, Path("/"))
    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield f"127.0.0.1:{process.port}", url_password(endpoint.url)
    process.stop()


def assert_never_shown(result, password: str) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert password not in output
    return output


@pytest.mark.timeout(120)
def test_a_query_string_password_never_appears_in_passes_failures_or_the_summary(project, server):
    where, password = server
    project.makepyfile(TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://{where}/9?password={password}")
    result = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "-rA", "-l", "--require-services")
    result.assert_outcomes(passed=4, failed=2)
    output = assert_never_shown(result, password)
    assert "url=redis://127.0.0.1:" in output and "/9?password=***" in output  # the header

    result = project.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "-rA", "-l")  # one process
    result.assert_outcomes(passed=4, failed=2)
    used = assert_never_shown(result, password).split("narrative services used")[1]
    assert "/9?password=*** (external)" in used


def test_refusals_and_a_wrong_password_never_show_it(project, server):
    where, password = server
    owner = redis.Redis.from_url(f"redis://{where}/12?password={password}")
    owner.set("customer:1", "precious")
    try:
        project.makepyfile(TESTS)
        project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://{where}/12?password={password}")
        refused = project.runpytest_inprocess("-p", "no:randomly")
        refused.assert_outcomes(errors=5, failed=1)
        output = assert_never_shown(refused, password)
        assert "holds 1 keys this run did not create" in output and "/12?password=***" in output
        assert owner.get("customer:1") == b"precious"

        wrong = f"Wr0ng-{password[::-1]}"
        project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://{where}/12?password={wrong}")
        rejected = project.runpytest_inprocess("-p", "no:randomly")
        rejected.assert_outcomes(errors=6)
        output = assert_never_shown(rejected, wrong)
        assert "redis rejected the password in TEST_REDIS_URL=redis://127.0.0.1:" in output
        assert password not in output
    finally:
        owner.flushdb()
        owner.close()


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://h:1/3?password=s3cret", "gw2", "redis://h:1/5?password=s3cret"),
        ("redis://h:1?db=3&password=s3cret", "master", "redis://h:1/3?password=s3cret"),
        ("redis://h:1?password=s3cret&db=3", "gw1", "redis://h:1/4?password=s3cret"),
        ("redis://:pw@h:1/0", "master", "redis://:pw@h:1/0"),
    ],
)
def test_the_per_worker_url_keeps_the_query_and_moves_db_into_the_path(monkeypatch, url, worker, expected):
    from narrative_fixtures.services.redis import database_of, external_url

    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    rewritten = external_url(url, worker)
    assert rewritten == expected
    assert database_of(rewritten) == int(expected.split("/")[3].split("?")[0])


def test_a_database_given_twice_differently_is_one_line_naming_the_setting():
    from narrative_fixtures.errors import ConfigError
    from narrative_fixtures.services.redis import external_url

    with pytest.raises(ConfigError) as error:
        external_url("redis://h:1/3?db=4&password=s3cret", "master")
    assert str(error.value).startswith("TEST_REDIS_URL=redis://h:1/3?db=4&password=***")
    assert "the path selects database 3 and ?db= database 4" in str(error.value)
    assert "s3cret" not in str(error.value)
