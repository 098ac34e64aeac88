"""Verdicts that name the backend (issue 13 item 4) and the whole checklist in the headline (item 5)."""

from __future__ import annotations

import pytest

from narrative_fixtures.signoff.checklist import CHECKLIST, TARGETS
from narrative_fixtures.signoff.model import FAILED, NOT_VERIFIED, VERIFIED, VERIFIED_ON_STAND_IN, build
from narrative_fixtures.signoff.render import render

FERRETDB = {"name": "mongodb", "status": "used", "mode": "embedded", "backend": "FerretDB", "version": "1.24.2", "url": ""}
MONGODB_7 = {"name": "mongodb", "status": "used", "mode": "external", "backend": "MongoDB", "version": "7.0.14", "url": ""}
MONGODB_6 = {"name": "mongodb", "status": "used", "mode": "external", "backend": "MongoDB", "version": "6.0.3", "url": ""}
REDIS_7 = {"name": "redis", "status": "used", "mode": "embedded", "backend": "redis-server", "version": "7.0.15", "url": ""}
REDIS_6 = {"name": "redis", "status": "used", "mode": "external", "backend": "redis-server", "version": "6.2.1", "url": ""}
MOTO = {"name": "s3", "status": "used", "mode": "embedded", "backend": "moto S3 server", "version": "5.0.28", "url": ""}
LOCALSTACK = {"name": "s3", "status": "used", "mode": "external", "backend": "LocalStack community", "version": "3.8.1", "url": ""}
FAKE_OPENAI = {"name": "openai", "status": "used", "mode": "embedded", "backend": "narrative-fake-openai", "version": "1.0", "url": ""}
PACKAGES = ("mongodb", "redis", "s3", "openai")


def _scenario(criterion, outcome="passed", fidelity=(), name=None):
    return {
        "nodeid": f"features/test_{criterion.key}.py::{name or criterion.key}",
        "feature": criterion.text,
        "scenario": name or f"a {criterion.key} scenario",
        "labels": {"criterion": criterion.key},
        "outcome": outcome,
        "fixtures": [],
        **({"narrative_fidelity": list(fidelity)} if fidelity else {}),
    }


def _run(services, scenarios=None):
    return {
        "finished": "2026-12-01 10:00:00 UTC",
        "duration_s": 3.0,
        "command": "pytest features",
        "exit_status": 0,
        "python": "3.12",
        "pytest": "9",
        "git": {"commit": "abc", "short": "abc", "branch": "main", "dirty": False},
        "services": list(services),
        "scenarios": [_scenario(c) for c in CHECKLIST] if scenarios is None else scenarios,
        "registered_fixtures": [],
        "coverage": {"source": "coverage run (statements and branches)"},
    }


def _coverage(percent_by_service, overall_extra=None):
    files = {}
    for service, percent in percent_by_service.items():
        files[f"fixtures/narrative_fixtures/services/{service}/fixtures.py"] = {
            "summary": {"num_statements": 100, "covered_lines": percent, "num_branches": 0, "covered_branches": 0,
                        "percent_covered": float(percent)}}  # fmt: skip
    return {"files": files}


def _verdicts(signoff):
    return {row.criterion.key: row.verdict for row in signoff.rows}


def test_every_service_criterion_has_its_target_in_the_table():
    assert {c.key for c in CHECKLIST if c.service} == set(TARGETS)
    assert all(TARGETS[c.key].service == c.service for c in CHECKLIST if c.service)


def test_the_embedded_stand_ins_give_verified_on_a_stand_in_and_the_row_names_both():
    signoff = build(_run([FERRETDB, REDIS_7, MOTO, FAKE_OPENAI]))
    verdicts = _verdicts(signoff)
    assert verdicts["mongodb"] == verdicts["s3"] == VERIFIED_ON_STAND_IN
    assert verdicts["redis"] == verdicts["openai"] == VERIFIED  # redis-server 7.x is Redis 7; OpenAI: a mock by design
    assert all(verdicts[key] == VERIFIED for key in ("examples", "graceful-skip", "compose", "documentation"))
    rows = {row.criterion.key: row for row in signoff.rows}
    assert rows["mongodb"].on == "on FerretDB 1.24.2, a stand-in for MongoDB 7"
    assert rows["s3"].on == "on moto S3 server 5.0.28, a stand-in for LocalStack"
    assert "on FerretDB 1.24.2, a stand-in for MongoDB 7" in rows["mongodb"].evidence
    assert signoff.headline.startswith("8 of 8 acceptance criteria verified (2 on stand-ins). ")


def test_the_targets_give_verified():
    signoff = build(_run([MONGODB_7, REDIS_7, LOCALSTACK, FAKE_OPENAI]))
    assert set(_verdicts(signoff).values()) == {VERIFIED}
    assert signoff.on_stand_ins == 0 and "stand-in" not in signoff.headline


@pytest.mark.parametrize(
    "service, expected_on",
    [
        (MONGODB_6, "on MongoDB 6.0.3, not MongoDB 7"),
        (REDIS_6, "on redis-server 6.2.1, not Redis 7"),
        ({**REDIS_7, "version": ""}, "on redis-server, version not recorded, not confirmed as Redis 7"),
    ],
)
def test_another_version_of_the_target_is_not_the_target(service, expected_on):
    row = next(r for r in build(_run([service])).rows if r.criterion.service == service["name"])
    assert row.verdict == VERIFIED_ON_STAND_IN and row.on == expected_on


def test_a_backend_the_run_did_not_record_is_never_taken_for_the_target():
    verdicts = _verdicts(build(_run([])))
    assert verdicts["mongodb"] == verdicts["redis"] == verdicts["s3"] == VERIFIED_ON_STAND_IN
    assert verdicts["openai"] == VERIFIED


def test_one_worker_on_a_stand_in_is_enough_to_withhold_verified():
    assert _verdicts(build(_run([MONGODB_7, FERRETDB])))["mongodb"] == VERIFIED_ON_STAND_IN
    assert _verdicts(build(_run([MONGODB_7, dict(MONGODB_7)])))["mongodb"] == VERIFIED


def test_failed_and_not_verified_are_not_softened_by_the_backend():
    by_key = {c.key: c for c in CHECKLIST}
    scenarios = [_scenario(by_key["mongodb"], "failed"), _scenario(by_key["s3"], "skipped")]
    verdicts = _verdicts(build(_run([MONGODB_7, LOCALSTACK], scenarios)))
    assert verdicts["mongodb"] == FAILED and verdicts["s3"] == NOT_VERIFIED


def test_scenarios_with_fidelity_warnings_are_listed_and_cap_the_verdict():
    mongodb = next(c for c in CHECKLIST if c.key == "mongodb")
    warning = "$group with 2 accumulators: FerretDB 1.24.2 may return a wrong result (TEST_MONGODB_FIDELITY)"
    scenarios = [_scenario(c) for c in CHECKLIST if c is not mongodb]
    scenarios += [_scenario(mongodb, fidelity=[warning], name="counts the rows"), _scenario(mongodb, name="other")]
    signoff = build(_run([MONGODB_7, REDIS_7, LOCALSTACK, FAKE_OPENAI], scenarios))
    row = next(r for r in signoff.rows if r.criterion.key == "mongodb")
    assert row.verdict == VERIFIED_ON_STAND_IN  # on MongoDB 7 itself, but a warned scenario proves less
    assert row.fidelity == [("counts the rows", warning)]
    assert "1 with fidelity warnings" in row.evidence
    markdown = render(signoff, "signoff.md.j2")
    assert f"- counts the rows: {warning}" in markdown
    assert "counts the rows: " + warning in render(signoff, "signoff.html.j2").replace("&#34;", '"')


def test_a_module_under_the_goal_shows_below_goal_and_the_headline_is_not_all_met():
    report = _coverage({"mongodb": 63, "redis": 90, "s3": 82, "openai": 78})
    signoff = build(_run([MONGODB_7, REDIS_7, LOCALSTACK, FAKE_OPENAI]), report)
    statuses = {goal.module.rsplit(".", 1)[-1]: goal.status for goal in signoff.goals}
    assert statuses == {"mongodb": "below goal", "redis": "met", "s3": "below goal", "openai": "below goal",
                        "narrative_fixtures": "below goal"}  # fmt: skip
    assert signoff.headline == (
        "8 of 8 acceptance criteria verified. 1 of 5 coverage goals met - 4 below goal."
    )
    assert signoff.overall == NOT_VERIFIED
    markdown = render(signoff, "signoff.md.j2")
    assert "| 9 | Coverage goal: MongoDB fixtures | **below goal** | 63.0% of statements and branches" in markdown
    assert "| 13 | Coverage goal: Overall (whole fixture package) | **below goal** |" in markdown
    html = render(signoff, "signoff.html.j2")
    assert 'data-goal="narrative_fixtures.services.redis"' in html and 'class="banner not-verified"' in html


def test_no_coverage_data_reads_not_measured():
    signoff = build(_run([MONGODB_7, REDIS_7, LOCALSTACK, FAKE_OPENAI]))
    assert {goal.status for goal in signoff.goals} == {"not measured"}
    assert signoff.headline == "8 of 8 acceptance criteria verified. 0 of 5 coverage goals met - 5 not measured."
    assert signoff.overall == NOT_VERIFIED


def test_the_whole_checklist_met_reads_verified():
    signoff = build(_run([MONGODB_7, REDIS_7, LOCALSTACK, FAKE_OPENAI]), _coverage(dict.fromkeys(PACKAGES, 90)))
    assert signoff.headline == "8 of 8 acceptance criteria verified. 5 of 5 coverage goals met."
    assert signoff.overall == VERIFIED
    stand_ins = build(_run([FERRETDB, REDIS_7, MOTO, FAKE_OPENAI]), _coverage(dict.fromkeys(PACKAGES, 90)))
    assert stand_ins.overall == VERIFIED_ON_STAND_IN
    assert 'class="banner verified-on-a-stand-in"' in render(stand_ins, "signoff.html.j2")


def test_the_terminal_lines_cover_all_thirteen_items():
    lines = build(_run([FERRETDB, REDIS_7, MOTO, FAKE_OPENAI])).summary_lines()
    assert len(lines) == 13
    assert lines[0].strip().startswith("verified on a stand-in  MongoDB fixtures with Beanie ODM integration (on FerretDB")
    assert lines[-1].strip() == "not measured  coverage goal: Overall (whole fixture package) (no coverage data for it in this run)"
