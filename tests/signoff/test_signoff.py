"""The sign-off's rules: verdicts, linking scenarios to checklist items, coverage goals, masking, rendering."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from narrative_fixtures.signoff import FAILED, NOT_VERIFIED, VERIFIED, build, verdict
from narrative_fixtures.signoff.__main__ import main as signoff_main
from narrative_fixtures.signoff.checklist import BY_KEY, CHECKLIST, STORY_FIXTURES, criterion_for, story_fixtures
from narrative_fixtures.signoff.coverage import coverage_rows, module_name
from narrative_fixtures.signoff.model import mask_text, one_line
from narrative_fixtures.signoff.render import render

STORY = Path(__file__).resolve().parents[2] / "docs" / "story-9.3.md"  # a copy of the story as signed off


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        (["passed"], VERIFIED),
        (["passed", "passed", "passed"], VERIFIED),
        (["passed", "failed"], FAILED),
        (["passed", "error"], FAILED),
        (["skipped", "failed"], FAILED),
        (["passed", "skipped"], NOT_VERIFIED),
        (["skipped", "skipped"], NOT_VERIFIED),
        (["xfailed"], NOT_VERIFIED),
        (["passed", "xpassed"], NOT_VERIFIED),
        ([], NOT_VERIFIED),
    ],
)
def test_verdict_rules(outcomes, expected):
    assert verdict(outcomes) == expected


def test_checklist_has_the_storys_eight_items_in_order():
    assert [c.key for c in CHECKLIST] == [
        "mongodb", "redis", "s3", "openai", "examples", "graceful-skip", "compose", "documentation",
    ]  # fmt: skip
    assert len(story_fixtures()) == 12 and len(set(story_fixtures())) == 12


def test_checklist_wording_is_the_storys():
    text = STORY.read_text()
    section = text.split("### Story 9.3 Acceptance Criteria", 1)[1].split("###", 1)[0]
    items = re.findall(r"- \[[ x]\] (.+?) \(", section)
    assert items == [c.text for c in CHECKLIST]
    for names in STORY_FIXTURES.values():
        for name in names:
            assert f"**`{name}`**" in text


def test_reference_and_checklist_name_the_same_story_fixtures():
    from narrative_fixtures.reference import STORY_FIXTURES as REFERENCE_STORY_FIXTURES

    assert set(story_fixtures()) == REFERENCE_STORY_FIXTURES


@pytest.mark.parametrize(
    "labels, feature, key",
    [
        ({"criterion": "compose"}, "anything", "compose"),
        ({"criterion": "compose", "task": "3.2"}, "anything", "compose"),  # an explicit link wins
        ({"task": "3.1"}, "MongoDB something", "mongodb"),
        ({"task": "3.4"}, None, "openai"),
        ({}, "Tests gracefully skip when services unavailable", "graceful-skip"),
        ({}, "  Comprehensive documentation ", "documentation"),
        ({}, "Some other feature", None),
        ({"criterion": "no-such-item"}, "Comprehensive documentation", None),  # a typo stays visible, unlinked
        ({"task": "infrastructure"}, "Unrelated", None),
    ],
)
def test_a_scenario_is_linked_to_its_checklist_item(labels, feature, key):
    criterion = criterion_for(labels, feature)
    assert (criterion.key if criterion else None) == key


def _record(name, outcome, *, feature="Redis fixtures for background job testing", task="3.2", reason="", fixtures=()):
    return {
        "nodeid": f"features/x.py::{name}",
        "feature": feature,
        "scenario": name,
        "labels": {"task": task} if task else {},
        "outcome": outcome,
        "reason": reason,
        "duration": 0.5,
        "fixtures": list(fixtures),
    }


def _run(*scenarios, **extra):
    return {
        "finished": "2026-01-01 10:00:00 UTC",
        "duration_s": 12.5,
        "command": "pytest features",
        "exit_status": 1,
        "python": "3.11",
        "pytest": "9",
        "git": {"commit": "abc", "short": "abc", "branch": "main", "dirty": False},
        "services": [],
        "scenarios": list(scenarios),
        "registered_fixtures": extra.get("registered", []),
        "coverage": {"source": "coverage run (statements and branches)"},
    }


SERVICE_MODULES = ("services/mongodb/fixtures", "services/redis/fixtures", "services/s3/fixtures", "services/openai/fixtures")


def _file(statements, covered):
    return {"summary": {"num_statements": statements, "covered_lines": covered, "num_branches": 0,
                        "covered_branches": 0, "percent_covered": 100.0 * covered / statements}}  # fmt: skip


def test_rows_follow_the_rules_per_item():
    run = _run(
        _record("queued", "passed"),
        _record("picked up", "passed"),
        _record("doc stale", "failed", feature="Comprehensive documentation", task=None, reason="stale"),
        _record("compose ok", "passed", feature="Docker Compose configuration for test services", task=None),
        _record("docker", "skipped", feature="Docker Compose configuration for test services", task=None,
                reason="Docker Compose is not installed here"),
    )  # fmt: skip
    run["services"] = [{"name": "redis", "status": "used", "backend": "redis-server", "version": "7.0.15"}]
    signoff = build(run)
    verdicts = {row.criterion.key: row.verdict for row in signoff.rows}
    assert verdicts == {
        "mongodb": NOT_VERIFIED,  # no scenario at all
        "redis": VERIFIED,
        "s3": NOT_VERIFIED,
        "openai": NOT_VERIFIED,
        "examples": NOT_VERIFIED,
        "graceful-skip": NOT_VERIFIED,
        "compose": NOT_VERIFIED,  # one skipped scenario is enough to withhold it
        "documentation": FAILED,
    }
    assert signoff.overall == FAILED
    assert signoff.verified == 1 and signoff.failed == 1 and signoff.not_verified == 6
    assert signoff.totals == {"passed": 3, "failed": 1, "skipped": 1}
    compose = next(row for row in signoff.rows if row.criterion.key == "compose")
    assert compose.evidence == "1 of 2 passed, 1 skipped. Reason: Docker Compose is not installed here"
    assert next(r for r in signoff.rows if r.criterion.key == "mongodb").evidence.startswith("No scenario")


def test_all_items_verified_only_when_all_have_passing_scenarios():
    scenarios = [_record(c.key, "passed", feature=c.text, task=None) for c in CHECKLIST]
    on_targets = _run(*scenarios)
    on_targets["services"] = [
        {"name": "mongodb", "status": "used", "backend": "MongoDB", "version": "7.0.14"},
        {"name": "redis", "status": "used", "backend": "redis-server", "version": "7.0.15"},
        {"name": "s3", "status": "used", "backend": "LocalStack community", "version": "3.8.1"},
        {"name": "openai", "status": "used", "backend": "narrative-fake-openai", "version": "1.0"},
    ]
    all_met = {"files": {f"fixtures/narrative_fixtures/{m}.py": _file(100, 90) for m in ("core/spec", *SERVICE_MODULES)}}
    assert build(on_targets, all_met).overall == VERIFIED
    assert build(on_targets).overall == NOT_VERIFIED  # coverage goals not measured: the checklist is not all met
    assert build(_run(*scenarios[:-1]), all_met).overall == NOT_VERIFIED


def test_unlinked_scenarios_are_listed_not_counted_for_any_item():
    signoff = build(_run(_record("stray", "passed", feature="Something else", task=None)))
    assert [s.name for s in signoff.unlinked] == ["stray"]
    assert all(row.verdict == NOT_VERIFIED for row in signoff.rows)


def test_fixture_usage_counts_only_passing_scenarios():
    run = _run(
        _record("a", "passed", fixtures=["redis_client", "redis_service"]),
        _record("b", "failed", fixtures=["test_redis_job", "redis_client"]),
        registered=["redis_client", "redis_service", "test_redis_job", "run_async"],
    )
    uses = {use.name: use for use in build(run).fixtures}
    assert uses["redis_client"].passing == ["a"] and uses["redis_client"].status == "used"
    assert uses["test_redis_job"].passing == [] and uses["test_redis_job"].status == "unused"
    assert uses["mock_openai"].status == "missing" and uses["mock_openai"].story
    assert uses["run_async"].registered and not uses["run_async"].story


def test_coverage_goals_per_fixture_module():
    report = {
        "files": {
            "fixtures/narrative_fixtures/services/redis.py": {
                "summary": {"num_statements": 100, "covered_lines": 90, "num_branches": 20, "covered_branches": 14,
                            "percent_covered": 86.67}},
            "fixtures/narrative_fixtures/services/s3.py": {
                "summary": {"num_statements": 100, "covered_lines": 85, "num_branches": 0, "covered_branches": 0,
                            "percent_covered": 85.0}},
            "steps/redis.py": {"summary": {"num_statements": 10, "covered_lines": 0, "percent_covered": 0.0}},
        }
    }  # fmt: skip
    rows, total = coverage_rows(report)
    assert [row.module for row in rows] == ["narrative_fixtures.services.redis", "narrative_fixtures.services.s3"]
    assert total == pytest.approx(100 * (90 + 14 + 85) / 220)
    goals = {goal.module: goal.status for goal in build(_run(), report).goals}
    assert goals["narrative_fixtures.services.redis"] == "met"
    assert goals["narrative_fixtures.services.s3"] == "below goal"  # the goal is more than 85%
    assert goals["narrative_fixtures.services.mongodb"] == "not measured"
    assert build(_run()).coverage_total is None


@pytest.mark.parametrize(
    "path, name",
    [
        ("fixtures/narrative_fixtures/services/redis.py", "narrative_fixtures.services.redis"),
        ("/abs/fixtures/narrative_fixtures/__init__.py", "narrative_fixtures"),
        ("fixtures/narrative_fixtures/services/openai/fake/__init__.py", "narrative_fixtures.services.openai.fake"),
        ("steps/redis.py", None),
    ],
)
def test_module_names_from_coverage_paths(path, name):
    assert module_name(path) == name


def test_secrets_are_masked_in_free_text():
    text = "cannot reach redis://:hunter2@127.0.0.1:6380/0 with password=swordfish and key sk-live-123456 (token: abc123)"
    masked = mask_text(text, ["sk-live-123456"])
    for secret in ("hunter2", "swordfish", "sk-live-123456", "abc123"):
        assert secret not in masked
    assert "redis://:***@127.0.0.1:6380/0" in masked


def test_reasons_are_one_line_without_stack_traces():
    assert one_line("Traceback (most recent call last):\n  File x\nAssertionError: boom\nmore") == "AssertionError: boom"
    assert len(one_line("x" * 1000, 50)) == 50


def test_a_reason_with_a_secret_never_reaches_the_reports():
    run = _run(_record("a", "skipped", reason="redis unavailable: redis://:hunter2@127.0.0.1:1/0 refused"))
    signoff = build(run)
    for template in ("signoff.md.j2", "signoff.html.j2"):
        page = render(signoff, template)
        assert "hunter2" not in page and "redis://:***@127.0.0.1:1/0" in page


def test_html_escapes_scenario_text_and_shows_no_traceback():
    run = _run(_record("<script>alert(1)</script>", "failed", reason="Traceback (most recent call last):\nValueError: x"))
    page = render(build(run), "signoff.html.j2")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Traceback" not in page and "ValueError: x" in page


def test_the_command_rebuilds_the_reports_from_a_run_record(tmp_path, capsys):
    coverage = tmp_path / "coverage.json"
    coverage.write_text(json.dumps({"files": {}}))
    record = _run(_record("queued", "passed"))
    record["coverage"]["path"] = str(coverage)
    record["services"] = [{"name": "redis", "status": "used", "mode": "embedded", "backend": "redis-server",
                           "version": "7.0.15", "url": "redis://127.0.0.1:1"}]  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps(record))
    assert signoff_main(["--run", str(tmp_path / "run.json")]) == 0
    assert "verified  Redis fixtures for background job testing" in capsys.readouterr().out
    markdown = (tmp_path / "signoff.md").read_text()
    assert "| 2 | Redis fixtures for background job testing | **verified** | All 1 scenario passed on redis-server 7.0.15. |" in markdown
    assert "| 1 | MongoDB fixtures with Beanie ODM integration | **NOT verified** |" in markdown
    assert (tmp_path / "signoff.html").read_text().count('data-criterion="') == len(CHECKLIST)


def test_the_command_says_what_to_do_without_a_run_record(tmp_path, capsys):
    assert signoff_main(["--run", str(tmp_path / "missing.json")]) == 2
    assert "run `pytest features` first" in capsys.readouterr().err


def test_every_checklist_key_is_unique():
    assert len(BY_KEY) == len(CHECKLIST)


def test_a_service_goal_counts_every_module_of_its_package():
    """A service is a package (fixtures, provider, janitor...): its goal is all of them together, not one file."""
    from narrative_fixtures.signoff.coverage import goal_rows

    def file(statements, covered, branches=0, covered_branches=0):
        return {"summary": {"num_statements": statements, "covered_lines": covered, "num_branches": branches,
                            "covered_branches": covered_branches, "percent_covered": 0.0}}

    report = {"files": {
        "fixtures/narrative_fixtures/services/redis/fixtures.py": file(100, 100),
        "fixtures/narrative_fixtures/services/redis/janitor.py": file(100, 50),
        "fixtures/narrative_fixtures/services/redis_extra.py": file(100, 0),  # another package: not counted
    }}
    rows, _total = coverage_rows(report)
    goals = {goal.module: goal.percent for goal in goal_rows(rows, _total)}
    assert goals["narrative_fixtures.services.redis"] == 75.0
    assert goals["narrative_fixtures.services.mongodb"] is None  # not measured, never a number
    assert {row.module: row.goal for row in rows} == {
        "narrative_fixtures.services.redis.fixtures": True, "narrative_fixtures.services.redis.janitor": True,
        "narrative_fixtures.services.redis_extra": False,
    }


def test_a_service_from_another_package_gets_its_goal_row_and_the_reporting_code_is_no_fixture_module():
    """Goal rows come from the registered services and the run's recorded ones, never from a list in the sign-off."""

    def file(statements, covered):
        return {"summary": {"num_statements": statements, "covered_lines": covered, "percent_covered": 0.0}}

    run = _run()
    run["services"] = [  # a service registered by another package
        {"name": "kafka", "status": "used", "mode": "embedded", "backend": "kafka", "version": "1", "url": "kafka://127.0.0.1:1",
         "package": "kafka_service"},
    ]
    report = {"files": {
        "/site-packages/narrative_fixtures/services/redis/fixtures.py": file(10, 9),
        "/site-packages/narrative_fixtures/signoff/plugin.py": file(100, 0),  # the sign-off's own code
    }}  # fmt: skip
    signoff = build(run, report)
    goals = {goal.module: goal for goal in signoff.goals}
    assert list(goals)[:4] == [f"narrative_fixtures.services.{name}" for name in ("mongodb", "redis", "s3", "openai")]
    assert goals["kafka_service"].label == "kafka fixtures" and goals["kafka_service"].status == "not measured"
    assert goals["narrative_fixtures.services.redis"].label == "Redis fixtures"
    assert [row.module for row in signoff.coverage] == ["narrative_fixtures.services.redis.fixtures"]
    assert signoff.coverage_total == pytest.approx(90.0)
    markdown = render(signoff, "signoff.md.j2")
    assert "| kafka fixtures | `kafka_service` | - | not measured |" in markdown
    assert "| kafka | used | embedded | kafka | 1 | kafka://127.0.0.1:1 |" in markdown  # its "Services used" row


def test_the_reports_directory_holds_generated_output_only():
    """``rm -rf reports`` deletes no source: nothing under reports/ is tracked, and the sign-off is a package."""
    root = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(["git", "ls-files", "reports"], cwd=root, capture_output=True, text=True, check=True)
    assert tracked.stdout.split() == []
    assert (root / "fixtures" / "narrative_fixtures" / "signoff" / "templates" / "signoff.md.j2").is_file()


def test_the_sign_off_imports_without_jinja2_and_says_which_extra_renders_it(tmp_path):
    """Jinja2 belongs to the [acceptance] extra: importing the recorder never needs it; rendering names the extra."""
    blocker = tmp_path / "jinja2.py"
    blocker.write_text("raise ImportError('blocked for this test')\n")
    script = (
        "import sys; import narrative_fixtures.signoff.plugin, narrative_fixtures.signoff.allure_labels\n"
        "from narrative_fixtures.signoff import build, render\n"
        "try:\n    render.render(build({}), 'signoff.md.j2')\nexcept RuntimeError as error:\n    print(error)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "the sign-off needs Jinja2: install narrative-acceptance[acceptance]"


def test_the_command_defaults_to_the_configured_reports_directory(tmp_path, monkeypatch, capsys):
    reports = tmp_path / "elsewhere"
    reports.mkdir()
    (reports / "run.json").write_text(json.dumps(_run(_record("queued", "passed"))))
    monkeypatch.setenv("NARRATIVE_REPORTS_DIR", str(reports))
    assert signoff_main([]) == 0
    assert (reports / "signoff.md").is_file() and (reports / "signoff.html").is_file()
    assert str(reports / "signoff.md") in capsys.readouterr().out
