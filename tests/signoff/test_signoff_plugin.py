"""The sign-off recorder and the Allure labels, as a real run meets them (a demo project in its own pytest)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signoff.signoff_demo import (
    COUNTS,
    SECRET_CONFIGURED,
    SECRET_IN_URL,
    STORY_URL,
    demo_env,
    run_demo,
    write_project,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("signoff-demo")
    done = run_demo(path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # one scenario fails by design
    return path


def _results(demo: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (demo / "allure-results").glob("*-result.json")]


def test_the_run_record_has_every_scenario_with_its_outcome(demo):
    run = json.loads((demo / "reports" / "run.json").read_text())
    outcomes = {s["scenario"]: s["outcome"] for s in run["scenarios"]}
    assert outcomes == {
        "A queued job waits in the queue": "passed",
        "Jobs are picked up in order": "passed",
        "A job result expires": "failed",
        "A job update is published": "skipped",
    }
    assert {s["criterion"] for s in run["scenarios"]} == {"redis"}
    assert all(s["task"] == "Task 3.2: Redis Test Fixtures" for s in run["scenarios"])
    passed = next(s for s in run["scenarios"] if s["scenario"] == "Jobs are picked up in order")
    assert "queue" in passed["fixtures"]  # fixtures that steps requested at run time are recorded
    assert run["exit_status"] == 1 and run["git"]["commit"]
    assert {service["name"] for service in run["services"]} >= {"redis", "mongodb", "s3", "openai"}


def test_the_signoff_shows_the_verdict_and_the_counts(demo):
    markdown = (demo / "reports" / "signoff.md").read_text()
    assert "| 2 | Redis fixtures for background job testing | **failed** |" in markdown
    assert f"{COUNTS['total']} scenarios: {COUNTS['passed']} passed, {COUNTS['failed']} failed," in markdown
    assert "0 of 8 acceptance criteria verified - 1 failed, 7 NOT verified." in markdown
    assert "Traceback" not in markdown


def test_no_secret_reaches_any_report(demo):
    for path in [*(demo / "reports").iterdir(), *(demo / "allure-results").iterdir()]:
        text = path.read_text(errors="replace")
        assert SECRET_IN_URL not in text, path.name
        assert SECRET_CONFIGURED not in text, path.name
    skipped = next(r for r in _results(demo) if r["status"] == "skipped")
    assert "redis://:***@127.0.0.1:1/0" in skipped["statusDetails"]["message"]


def test_allure_labels_follow_the_story_hierarchy(demo):
    result = next(r for r in _results(demo) if r["name"] == "A queued job waits in the queue")
    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert {
        ("epic", "Sprint 9"),
        ("feature", "Task 3.2: Redis Test Fixtures"),
        ("story", "Redis fixtures for background job testing"),
        ("severity", "critical"),
        ("owner", "backend-team"),
        ("task", "3.2"),
    } <= labels
    assert result["links"] == [{"type": "link", "url": STORY_URL, "name": "Story 9.3: Integration Test Fixtures"}]


def test_step_parameters_are_the_values_from_the_step_text_only(demo):
    result = next(r for r in _results(demo) if r["name"] == "A queued job waits in the queue")
    parameters = {step["name"]: {p["name"] for p in step.get("parameters", [])} for step in result["steps"]}
    assert parameters['Given a job "build" is queued'] == {"name"}
    assert parameters["Then the queue holds 1 job"] == {"count"}  # not the "queue" fixture


def test_environment_and_categories_are_written(demo):
    properties = (demo / "allure-results" / "environment.properties").read_text()
    assert "service.redis.mode=external" in properties
    categories = json.loads((demo / "allure-results" / "categories.json").read_text())
    names = [c["name"] for c in categories]
    skipped = next(r for r in _results(demo) if r["status"] == "skipped")
    failed = next(r for r in _results(demo) if r["status"] == "failed")

    def category(result):
        for c in categories:
            regex = c.get("messageRegex")
            if result["status"] in c["matchedStatuses"] and (
                regex is None or re.fullmatch(regex, result["statusDetails"]["message"])
            ):
                return c["name"]

    assert category(skipped) == names[0] and "unavailable" in names[0].lower()
    assert category(failed).startswith("Product defects")


def test_a_nested_run_writes_no_signoff(pytester: pytest.Pytester):
    # Inside this run (which loaded the sign-off plugin through the root conftest) a pytester run is nested.
    write_project(pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    # (reports/services/ may hold the log of the Redis its @redis scenarios made the plugin prestart)
    assert not [p for p in ("run.json", "signoff.md", "signoff.html") if (pytester.path / "reports" / p).exists()]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_reports_go_to_the_configured_directory(tmp_path, how):
    """``--reports-dir`` / ``NARRATIVE_REPORTS_DIR`` (relative to the rootdir) move every report; reports/ stays empty."""
    path = write_project(tmp_path / "project")
    command = [
        sys.executable, "-m", "pytest", "features", "-p", "no:randomly", "-p", "no:cacheprovider",
        "--rootdir", str(path), "-c", str(path / "pytest.ini"),
    ]  # fmt: skip
    env = demo_env()
    if how == "option":
        command.append("--reports-dir=out/signed")
    else:
        env["NARRATIVE_REPORTS_DIR"] = "out/signed"
    done = subprocess.run(command, cwd=path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # one scenario fails by design
    written = path / "out" / "signed"
    assert {"run.json", "signoff.md", "signoff.html"} <= {p.name for p in written.iterdir()}
    assert not (path / "reports" / "run.json").exists() and not (path / "reports" / "signoff.md").exists()
    assert str(written / "signoff.md") in done.stdout
