"""Configuration: precedence CLI > env > ini > default, implied external mode, masking, the pytest header."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.errors import ConfigError


def resolve(cli=None, env=None, ini=None):
    return cfg.resolve(cli or {}, env or {}, ini or {}, Path("/project"))


def test_defaults_are_embedded_with_the_story_external_values():
    settings = resolve()
    modes = {name: service.mode for name, service in settings.services.items()}
    assert {"mongodb", "redis", "s3", "openai"} <= set(modes)  # the story's four; an installed fifth may follow
    assert set(modes.values()) == {"embedded"}
    assert settings["redis"]["url"] == "redis://:test_redis_password@localhost:6380/0"
    assert settings["mongodb"]["db"] == "narrative_test"
    assert settings["s3"]["endpoint_url"] == "http://localhost:4566"
    assert settings.require_services is False


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected", "source"),
    [
        ({"redis_url": "redis://cli:1/0"}, {"TEST_REDIS_URL": "redis://env:1/0"}, {"redis_url": "redis://ini:1/0"},
         "redis://cli:1/0", "option --redis-url"),
        ({}, {"TEST_REDIS_URL": "redis://env:1/0"}, {"redis_url": "redis://ini:1/0"}, "redis://env:1/0",
         "env TEST_REDIS_URL"),
        ({}, {}, {"redis_url": "redis://ini:1/0"}, "redis://ini:1/0", "ini redis_url"),
        ({}, {}, {}, "redis://:test_redis_password@localhost:6380/0", "default"),
    ],
)
def test_precedence_cli_env_ini_default(cli, env, ini, expected, source):
    redis = resolve(cli, env, ini)["redis"]
    assert redis["url"] == expected
    assert redis.sources["url"] == source


def test_connection_variable_implies_external_mode():
    redis = resolve(env={"TEST_REDIS_URL": "redis://localhost:6380/0"})["redis"]
    assert (redis.mode, redis.sources["mode"]) == ("external", "env TEST_REDIS_URL is set")


def test_mode_precedence():
    env = {"TEST_REDIS_URL": "redis://x:1/0", "TEST_REDIS_MODE": "off"}
    assert resolve(env=env)["redis"].mode == "off"  # explicit env mode beats the implied one
    assert resolve(cli={"redis_mode": "embedded"}, env=env)["redis"].mode == "embedded"
    assert resolve(ini={"redis_mode": "off"})["redis"].mode == "off"
    assert resolve(env={"TEST_REDIS_URL": "redis://x:1/0"}, ini={"redis_mode": "off"})["redis"].mode == "external"


def test_unknown_mode_names_the_setting():
    with pytest.raises(ConfigError, match="TEST_S3_MODE.*'sometimes'"):
        resolve(env={"TEST_S3_MODE": "sometimes"})


def test_flags_and_globals():
    settings = resolve(env={"TEST_REQUIRE_SERVICES": "1"}, ini={"services_log_dir": "out/logs"})
    assert settings.require_services is True
    assert settings.log_dir == Path("/project/out/logs")
    assert resolve(ini={"require_services": True}).require_services is True


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:s3cret@host:6380/0", "redis://:***@host:6380/0"),
        ("mongodb://admin:p%40ss@h:27018/db", "mongodb://admin:***@h:27018/db"),
        ("http://localhost:4566", "http://localhost:4566"),
        (None, None),
    ],
)
def test_mask_url(url, masked):
    assert cfg.mask_url(url) == masked


def test_secrets_are_collected_for_scanning_and_masked_in_descriptions():
    env = {"TEST_REDIS_URL": "redis://:pw-red-123@h:1/0", "AWS_SECRET_ACCESS_KEY": "aws-secret-xyz",
           "S3_ENDPOINT_URL": "http://h:1"}
    settings = resolve(env=env)
    assert {"pw-red-123", "aws-secret-xyz"} <= set(settings.secrets())
    assert "pw-red-123" not in settings["redis"].describe()
    assert "aws-secret-xyz" not in settings["s3"].describe()
    assert "***" in settings["s3"].describe()


def test_header_shows_modes_and_masks_secrets(project):
    project.makepyfile("def test_nothing():\n    pass\n")
    result = project.runpytest_inprocess(
        "--redis-url", "redis://:header-secret-42@localhost:6380/0", "--redis-mode", "external"
    )
    result.stdout.fnmatch_lines([
        "narrative services (skip when unavailable):",
        "*mongodb: mode=embedded (default), FerretDB 1.24.2 on SQLite*",
        "*redis: mode=external (option --redis-mode), url=redis://:***@localhost:6380/0*",
    ])
    assert "header-secret-42" not in result.stdout.str()
    result.assert_outcomes(passed=1)


def test_ini_options_are_honoured(project):
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nredis_mode = off\nrequire_services = true\n")
    project.makepyfile("def test_nothing():\n    pass\n")
    result = project.runpytest_inprocess()
    result.stdout.fnmatch_lines(["narrative services (strict):", "*redis: mode=off (ini redis_mode)*"])


def test_bad_mode_is_a_usage_error(project):
    project.makepyfile("def test_nothing():\n    pass\n")
    result = project.runpytest_inprocess()
    assert result.ret == 0
    project._monkeypatch.setenv("TEST_REDIS_MODE", "maybe")
    result = project.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: TEST_REDIS_MODE='maybe' is not one of embedded, external, off"])
