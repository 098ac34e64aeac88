"""Bad input: every bad setting is ONE usage line at start-up naming the setting and the value (secrets masked),
never a traceback, never repeated; a refusal is printed once."""

from __future__ import annotations

import pytest

from tests.conftest import before_short_summary

REDIS_TEST = """
import pytest

@pytest.mark.asyncio
async def test_uses_redis(redis_client):
    assert await redis_client.ping()
"""

BAD_SETTINGS = [
    ("TEST_SERVICE_START_TIMEOUT", "abc", "TEST_SERVICE_START_TIMEOUT='abc' is not a positive number"),
    ("TEST_SERVICE_START_TIMEOUT", "0", "TEST_SERVICE_START_TIMEOUT='0' is not a positive number"),
    ("TEST_SERVICE_START_TIMEOUT", "-5", "TEST_SERVICE_START_TIMEOUT='-5' is not a positive number"),
    ("TEST_REQUIRE_SERVICES", "ture", "TEST_REQUIRE_SERVICES='ture' is not a yes/no value"),
    ("TEST_REDIS_ALLOW_FLUSH", "sometimes", "TEST_REDIS_ALLOW_FLUSH='sometimes' is not a yes/no value"),
    ("TEST_REDIS_MODE", "maybe", "TEST_REDIS_MODE='maybe' is not one of embedded, external, off"),
    ("TEST_SERVICES_LOG_DIR", "{file}/logs", "TEST_SERVICES_LOG_DIR='{file}/logs' is not a writable folder"),
]


def _assert_one_usage_line(result, message: str) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert "\n".join(before_short_summary(result.stdout.lines) + result.stderr.lines).count(message) == 1, output[-2000:]
    assert "Traceback" not in output and "During handling" not in output, output[-2000:]
    assert "passed" not in output and "failed" not in output, "no test may run with a bad setting"


@pytest.mark.parametrize(("variable", "value", "message"), BAD_SETTINGS, ids=[f"{v}={x}" for v, x, _ in BAD_SETTINGS])
def test_a_bad_setting_is_one_usage_line_at_start_up(project, variable, value, message):
    a_file = project.path / "a-file"
    a_file.write_text("not a folder")
    project.makepyfile(REDIS_TEST)
    project._monkeypatch.setenv(variable, value.format(file=a_file))
    result = project.runpytest_inprocess("-p", "no:randomly")
    _assert_one_usage_line(result, message.format(file=a_file))


def test_a_bad_ini_value_names_the_ini_key(project):
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nrequire_services = ture\n")
    project.makepyfile("def test_nothing():\n    pass\n")
    result = project.runpytest_inprocess()
    _assert_one_usage_line(result, "ini require_services='ture' is not a yes/no value")


def test_a_bad_option_names_the_option(project):
    project.makepyfile("def test_nothing():\n    pass\n")
    result = project.runpytest_inprocess("--service-start-timeout", "soon")
    _assert_one_usage_line(result, "--service-start-timeout='soon' is not a positive number")


def test_a_secret_value_is_masked_in_the_usage_line(project):
    project.makepyfile("def test_nothing():\n    pass\n")
    project._monkeypatch.setenv("TEST_REDIS_MODE", "hunter2-S3cret")
    project._monkeypatch.setenv("TEST_REDIS_URL", "redis://:hunter2-S3cret@localhost:6380/0")
    result = project.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "hunter2-S3cret" not in result.stdout.str() + result.stderr.str()


@pytest.mark.timeout(60)
def test_a_refusal_is_printed_once_without_a_chain(project):
    project.makepyfile("def test_s3(test_s3_bucket):\n    pass\n")
    project._monkeypatch.setenv("TEST_S3_BUCKET", "prod-bucket")
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    shown = "\n".join(before_short_summary(result.stdout.lines))
    assert shown.count("bucket 'prod-bucket' does not start with 'test-'; refusing") == 1, output
    assert "During handling" not in output and "Traceback" not in output
