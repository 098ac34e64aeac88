"""The Redis fixtures as another project meets them: plain pytest-asyncio tests, skip vs strict, safety, errors."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import closed_port

TEN_REDIS_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(10))
async def test_uses_redis(redis_client, n):
    await redis_client.ping()
"""


def test_plain_pytest_asyncio_tests_use_the_fixtures(project):
    project.makepyfile(
        """
        import json
        import pytest

        @pytest.mark.asyncio
        async def test_job_is_queued(redis_client, test_redis_job):
            queued = json.loads(await redis_client.lindex("job_queue", 0))
            assert queued == test_redis_job
            assert json.loads(await redis_client.get("job:" + test_redis_job["job_id"]))["status"] == "pending"

        @pytest.mark.asyncio
        async def test_next_test_starts_clean(redis_client):
            assert await redis_client.dbsize() == 0
        """
    )
    result = project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_unreachable_redis_skips_every_test_naming_the_setting(project):
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://:pw@127.0.0.1:{closed_port()}/0")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines(["SKIPPED [[]10] *redis unavailable: cannot reach Redis at TEST_REDIS_URL=redis://:***@*"])
    assert ":pw@" not in result.stdout.str()


def test_unreachable_redis_is_probed_once_per_run(project, monkeypatch):
    from narrative_fixtures.services import redis as redis_service

    calls = []
    original = redis_service.RedisProvider.connect_external
    monkeypatch.setattr(
        redis_service.RedisProvider, "connect_external",
        lambda self, *args: calls.append(1) or original(self, *args),
    )
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    project.runpytest_inprocess().assert_outcomes(skipped=10)
    assert calls == [1], "the failure must be remembered, not retried by every test"


@pytest.mark.parametrize("strict", [["--require-services"], ["-o", "require_services=true"]])
def test_strict_mode_turns_skips_into_failures(project, strict):
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    result = project.runpytest_inprocess(*strict)
    result.assert_outcomes(errors=10)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cannot reach Redis at TEST_REDIS_URL=*[strict mode: --require-services]*"])


def test_turned_off_redis_skips_and_says_how_to_turn_it_on(project):
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_MODE", "off")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines(["*redis is turned off (env TEST_REDIS_MODE); set TEST_REDIS_MODE=embedded*"])


@pytest.fixture(scope="module")
def embedded_redis_url():
    """A redis-server of our own (started through the plugin's provisioning) acting as an 'external' Redis."""
    from pathlib import Path

    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    settings = cfg.resolve({}, {}, {"services_log_dir": "/tmp/narrative-test-logs"}, Path("/"))
    endpoint, server = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint.url
    server.stop()


def test_wrong_password_is_a_one_line_error_naming_the_setting(project, embedded_redis_url):
    project.makepyfile(TEN_REDIS_TESTS)
    wrong = embedded_redis_url.replace("redis://:", "redis://:Wr0ngPassw0rd-", 1)
    project._monkeypatch.setenv("TEST_REDIS_URL", wrong)
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines(["*redis rejected the password in TEST_REDIS_URL=redis://:***@127.0.0.1:*"])
    assert "Wr0ngPassw0rd" not in result.stdout.str()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://localhost:notaport/0", "is not a valid Redis URL"),
        ("http://localhost:6380/0", "is not a Redis URL"),
        ("redis://localhost:6380/zero", "the database must be a number"),
    ],
)
def test_malformed_urls_fail_with_the_setting_named(project, url, message):
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", url)
    result = project.runpytest_inprocess("--require-services")
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines([f"*TEST_REDIS_URL=*{message}*"])


def test_foreign_keys_in_an_external_database_are_never_flushed(project, embedded_redis_url):
    sentinel_db = embedded_redis_url[:-1] + "5"
    owner = redis.Redis.from_url(sentinel_db, decode_responses=True)
    owner.set("customer:42", "precious")
    try:
        project.makepyfile(TEN_REDIS_TESTS)
        project._monkeypatch.setenv("TEST_REDIS_URL", sentinel_db)
        result = project.runpytest_inprocess()
        result.assert_outcomes(failed=0, errors=10)
        result.stdout.fnmatch_lines(["*holds 1 keys this run did not create; refusing to flush it*TEST_REDIS_ALLOW_FLUSH*"])
        assert owner.get("customer:42") == "precious"
        project._monkeypatch.setenv("TEST_REDIS_ALLOW_FLUSH", "1")
        project.runpytest_inprocess().assert_outcomes(passed=10)
        assert owner.get("customer:42") is None, "with the opt-in the database is flushed as asked"
    finally:
        owner.flushdb()
        owner.close()


def test_a_server_killed_mid_run_fails_the_next_tests_clearly_and_the_rest_pass(project):
    project.makepyfile(
        """
        import os, signal, pytest
        from narrative_fixtures.services.common import registry_of

        @pytest.mark.asyncio
        async def test_1_kills_the_server(request, redis_client):
            await redis_client.ping()
            os.kill(registry_of(request.config).owned("redis").pid, signal.SIGKILL)

        @pytest.mark.asyncio
        async def test_2_needs_redis(redis_client):
            await redis_client.ping()

        @pytest.mark.asyncio
        async def test_3_needs_redis(redis_client):
            await redis_client.ping()

        def test_4_needs_no_redis():
            assert True
        """
    )
    result = project.runpytest_subprocess("-p", "no:randomly", "--timeout", "30")
    # test 1 passes, then its teardown (flush) errors on the dead server; tests 2 and 3 fail at setup; 4 passes
    result.assert_outcomes(passed=2, errors=3)
    setup_2 = result.stdout.str().split("ERROR at setup of test_2_needs_redis")[1].split("ERROR at setup of")[0]
    assert "During handling" not in setup_2 and "Traceback" not in setup_2, "one clear line, not a chain"
    result.stdout.fnmatch_lines(["*redis: the embedded server (pid *) stopped during the run (killed by signal 9); log: *redis.log*"])
    assert "Timeout >" not in result.stdout.str(), "a test waited for the dead server until pytest-timeout"


def test_a_server_that_accepts_but_never_answers_is_unavailable_quickly(project):
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []
    threading.Thread(target=lambda: [accepted.append(silent.accept()) for _ in range(4)], daemon=True).start()
    project.makepyfile(TEN_REDIS_TESTS)
    project._monkeypatch.setenv("TEST_REDIS_URL", f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines(["*cannot reach Redis at TEST_REDIS_URL=redis://127.0.0.1:*Timeout*"])
    silent.close()
