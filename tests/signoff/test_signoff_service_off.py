"""A service turned off can never be signed off: its criterion shows NOT verified, and strict mode fails the run.

The real features run in a copy of the repository (its own reports/), Redis turned off, S3 on as the contrast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import repository_copy

FEATURES = ["features/test_redis.py", "features/test_s3.py"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return repository_copy(tmp_path_factory.mktemp("repository"))


def run(tree, *args: str) -> tuple[subprocess.CompletedProcess, str, dict[str, list[str]]]:
    """The run, its partial sign-off, and the outcomes of each feature file's scenarios (from its run record)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "PYTEST_XDIST", "NARRATIVE_SIGNOFF_RUN", "NARRATIVE_REPORTS_DIR"))}
    env["TEST_REDIS_MODE"] = "off"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *FEATURES, "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300,
    )
    reports = tree / "reports"  # two files of the spec: a partial run
    outcomes: dict[str, list[str]] = {}
    for scenario in json.loads((reports / "run.partial.json").read_text())["scenarios"]:
        outcomes.setdefault(scenario["nodeid"].split("::")[0], []).append(scenario["outcome"])
    return result, (reports / "signoff.partial.md").read_text(), outcomes


def criterion_row(signoff: str, criterion: str) -> str:
    return next(line for line in signoff.splitlines() if line.startswith("| ") and criterion in line)


@pytest.mark.timeout(300)
def test_a_turned_off_service_is_not_verified_and_its_scenarios_are_skipped(tree):
    result, signoff, outcomes = run(tree)
    assert result.returncode == 0, result.stdout[-2000:]
    redis, s3 = outcomes[FEATURES[0]], outcomes[FEATURES[1]]
    assert redis and set(redis) == {"skipped"} and s3 and set(s3) == {"passed"}, outcomes
    assert f"{len(redis)} skipped" in result.stdout and f"{len(s3)} passed" in result.stdout
    assert "**NOT verified**" in criterion_row(signoff, "Redis fixtures for background job testing")
    assert "redis is turned off" in criterion_row(signoff, "Redis fixtures for background job testing")
    assert "**verified on a stand-in**" in criterion_row(signoff, "S3 LocalStack fixtures for file storage testing")  # moto, not LocalStack


@pytest.mark.timeout(300)
def test_strict_mode_fails_the_run_and_still_never_says_verified(tree):
    result, signoff, outcomes = run(tree, "--require-services")
    assert result.returncode != 0
    redis = outcomes[FEATURES[0]]
    assert redis and set(redis) <= {"failed", "error"}, result.stdout[-2000:]
    assert f"{len(redis)} errors" in result.stdout or f"{len(redis)} failed" in result.stdout, result.stdout[-2000:]
    row = criterion_row(signoff, "Redis fixtures for background job testing")
    assert "**verified**" not in row and ("**failed**" in row or "**NOT verified**" in row)
