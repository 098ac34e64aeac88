"""A small acceptance spec for the sharding and merging self-tests: 10 scenarios over 3 features, 4 on a real Redis.

The Redis feature uses the plugin's ``redis_service`` (so each run starts its own embedded redis-server, or uses
the one ``TEST_REDIS_URL`` names); the others are plain. ``FAIL_SCENARIO=<name>`` makes the scenario of that
name fail. ``JUDGING_FEATURE`` (added by a test that wants it) is a scenario of a criterion that judges its run
with a step the merge cannot judge; ``examples_feature`` the examples criterion with the real steps.
Every run is its own pytest process with its own reports directory (``reports_dir``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.signoff.signoff_demo import demo_env, write_project

REDIS_FEATURE = """\
@redis @task:3.2
Feature: Redis fixtures for background job testing

  Scenario: A job is queued
    When a job "build" is pushed
    Then the queue holds "build"

  Scenario: A second job waits behind the first
    When a job "first" is pushed
    Then the queue holds "first"

  Scenario: A job result is kept
    When a job "result" is pushed
    Then the queue holds "result"

  Scenario: A job is retried
    When a job "retry" is pushed
    Then the queue holds "retry"
"""

DOCS_FEATURE = """\
@criterion:documentation
Feature: Comprehensive documentation

  Scenario: The README names every setting
    Then "README" is documented

  Scenario: The reference lists every fixture
    Then "reference" is documented

  Scenario: The sign-off explains its verdicts
    Then "sign-off" is documented
"""

EXAMPLES_FEATURE = """\
@criterion:compose
Feature: Docker Compose configuration for test services

  Scenario Outline: The compose file documents <fixture>
    Then "<fixture>" is documented

    Examples:
      | fixture      |
      | redis_client |
      | s3_client    |
      | mock_openai  |
"""

JUDGING_FEATURE = """\
@criterion:examples
Feature: Integration test examples for each fixture type

  Scenario: Every fixture is shown at work
    Then "examples" is documented
"""


def examples_feature(fixture: str) -> str:
    """The examples criterion with the real steps (``steps/examples.py``), judging that ``fixture`` is used."""
    return f"""\
@criterion:examples
Feature: Integration test examples for each fixture type

  Background:
    Given every other scenario selected in this run has finished

  Scenario: The fixture {fixture} is shown at work in a passing example
    Then the fixture "{fixture}" is used by at least one passing example

  Scenario: None of the examples fails
    Then no example failed
"""


STEPS = '''\
import os

import redis
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("redis_jobs.feature", "docs.feature", "examples.feature")
if os.path.exists(os.path.join(os.path.dirname(__file__), "judging.feature")):
    scenarios("judging.feature")
if os.path.exists(os.path.join(os.path.dirname(__file__), "examples_judged.feature")):
    pytest_plugins = ["steps.examples"]  # the real examples steps
    scenarios("examples_judged.feature")


def _maybe_fail(name):
    assert os.environ.get("FAIL_SCENARIO") != name, f"{name} failed on purpose"


@when(parsers.parse('a job "{name}" is pushed'), target_fixture="client")
def pushed(redis_service, name):
    client = redis.Redis.from_url(redis_service.url)
    client.rpush("jobs", name)
    return client


@then(parsers.parse('the queue holds "{name}"'))
def holds(client, name):
    assert name.encode() in client.lrange("jobs", 0, -1)
    _maybe_fail(name)


@then(parsers.parse('"{topic}" is documented'))
def documented(topic):
    _maybe_fail(topic)
'''

SCENARIOS = 10


def write_spec(path: Path) -> Path:
    """The spec project (the demo's conftest and ini, these features and steps) in ``path``."""
    write_project(path)
    features = path / "features"
    (features / "redis.feature").unlink()
    (features / "test_demo.py").unlink()
    (features / "redis_jobs.feature").write_text(REDIS_FEATURE)
    (features / "docs.feature").write_text(DOCS_FEATURE)
    (features / "examples.feature").write_text(EXAMPLES_FEATURE)
    (features / "test_spec.py").write_text(STEPS)
    return path


def run_spec(path: Path, reports: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``pytest features *args`` in the spec project, writing its reports into ``path / reports``."""
    environment = demo_env()
    environment.pop("TEST_REDIS_URL")  # embedded unless the caller names a Redis
    environment.update(NARRATIVE_REPORTS_DIR=reports, **env)
    no_xdist = [] if "-n" in args else ["-p", "no:xdist"]
    no_randomly = [] if any(arg.startswith("--randomly-seed") for arg in args) else ["-p", "no:randomly"]
    command = [
        sys.executable, "-m", "pytest", "features", *args, *no_randomly, "-p", "no:cacheprovider",
        *no_xdist, "--rootdir", str(path), "-c", str(path / "pytest.ini"),
    ]  # fmt: skip
    return subprocess.run(command, cwd=path, env=environment, capture_output=True, text=True, timeout=180)


def merge(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m narrative_fixtures.signoff merge *args`` in its own process."""
    command = [sys.executable, "-m", "narrative_fixtures.signoff", "merge", *args]
    return subprocess.run(command, cwd=cwd, env=demo_env(), capture_output=True, text=True, timeout=180)


def record(directory: Path) -> dict:
    """The one run record of a reports directory."""
    (path,) = sorted(directory.glob("run*.json"))
    return json.loads(path.read_text())


def outcomes(run: dict) -> dict[str, str]:
    """nodeid -> outcome of a (plain) run record."""
    return {scenario["nodeid"]: scenario["outcome"] for scenario in run["scenarios"]}


def run_features(reports: Path, *args: str) -> subprocess.CompletedProcess:
    """The repository's own ``pytest *args`` (real features, real embedded services), reports into ``reports``."""
    from tests.signoff.signoff_demo import ROOT

    environment = demo_env()
    environment.pop("TEST_REDIS_URL")
    environment.pop("NARRATIVE_STORY_URL")
    environment.update(NARRATIVE_REPORTS_DIR=str(reports), TEST_SERVICES_LOG_DIR=str(reports / "services"))
    command = [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
