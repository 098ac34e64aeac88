"""A small, known acceptance run for the report self-tests: 4 scenarios, 2 passed, 1 failed, 1 skipped.

The demo project uses the real plugins (tags -> labels, Allure labels, sign-off recorder) on a pytest-bdd feature
whose outcomes are fixed, and carries two secrets that must never reach a report: a password inside a URL in a
skip message, and the configured Redis password quoted raw in an assertion message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_IN_URL = "url-pass-4711"
SECRET_CONFIGURED = "conf-pass-0815"
STORY_URL = "https://tracker.invalid/stories/9.3"  # only written into the report, never fetched
COUNTS = {"total": 4, "passed": 2, "failed": 1, "skipped": 1}

FEATURE = """\
@redis @task:3.2 @severity:critical
Feature: Redis fixtures for background job testing
  A demo of a run whose outcomes are known.

  Scenario: A queued job waits in the queue
    Given a job "build" is queued
    Then the queue holds 1 job

  Scenario: Jobs are picked up in order
    Given a job "first" is queued
    Then the queue holds 1 job

  Scenario: A job result expires
    Given a job "ttl" is queued
    Then the result is gone

  Scenario: A job update is published
    Then subscribers are unavailable
"""

STEPS = f'''\
import pytest
from pytest_bdd import given, parsers, scenarios, then

scenarios("redis.feature")


@given(parsers.parse('a job "{{name}}" is queued'), target_fixture="queue")
def queued(name):
    return [name]


@then(parsers.parse("the queue holds {{count:d}} job"))
def holds(queue, count):
    assert len(queue) == count


@then("the result is gone")
def gone(queue):
    assert queue == [], "the result is still there (password {SECRET_CONFIGURED} in use)"


@then("subscribers are unavailable")
def unavailable():
    pytest.skip("redis unavailable: cannot reach Redis at TEST_REDIS_URL=redis://:{SECRET_IN_URL}@127.0.0.1:1/0")
'''

CONFTEST = '''\
import pytest

pytest_plugins = ["narrative_fixtures.signoff.plugin", "narrative_fixtures.signoff.allure_labels"]


def pytest_bdd_apply_tag(tag, function):
    if ":" not in tag:
        return None
    key, value = tag.split(":", 1)
    pytest.mark.label(key, value)(function)
    return True


def pytest_configure(config):
    config.addinivalue_line("markers", "label(key, value): a Gherkin key:value tag")
'''

INI = """\
[pytest]
bdd_features_base_dir = features
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""


def write_project(path: Path) -> Path:
    (path / "features").mkdir(parents=True, exist_ok=True)
    (path / "features" / "redis.feature").write_text(FEATURE)
    (path / "features" / "test_demo.py").write_text(STEPS)
    (path / "conftest.py").write_text(CONFTEST)
    (path / "pytest.ini").write_text(INI)
    return path


def demo_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "PYTEST_"))}
    env.pop("NARRATIVE_SIGNOFF_RUN", None)  # this is an outer run of its own, not nested in ours
    env.pop("NARRATIVE_REPORTS_DIR", None)  # its reports go to its own reports/ (the tests read them there)
    env.pop("COVERAGE_PROCESS_START", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NARRATIVE_STORY_URL"] = STORY_URL
    env["TEST_REDIS_URL"] = f"redis://:{SECRET_CONFIGURED}@127.0.0.1:1/0"  # a configured secret (never reached)
    return env


def run_demo(path: Path) -> subprocess.CompletedProcess:
    """Run the demo project in its own pytest process, writing Allure results and the sign-off under ``path``."""
    write_project(path)
    command = [
        sys.executable, "-m", "pytest", "features", "-p", "no:randomly", "-p", "no:cacheprovider",
        "--rootdir", str(path), "-c", str(path / "pytest.ini"), "--alluredir", str(path / "allure-results"),
    ]  # fmt: skip
    return subprocess.run(command, cwd=path, env=demo_env(), capture_output=True, text=True, timeout=300)  # a loaded machine
