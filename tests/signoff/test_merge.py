"""Merging runs into one sign-off (issue 16 item 1): every run's outcome with its backend, commits checked.

The real case: the spec project (``tests/signoff/shard_spec.py``) run once on its own embedded Redis and once in
external mode against a redis-server this test starts itself; merged, the Redis criterion names both. The rules
are checked on written records: a failure in any run fails, a skip does not hide another run's pass, runs of other
commits are refused in one line, coverage data and Allure results of every run are combined.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from narrative_fixtures.signoff.checklist import CHECKLIST
from narrative_fixtures.signoff.merge import main as merge_main
from narrative_fixtures.signoff.model import FAILED, NOT_VERIFIED, VERIFIED, VERIFIED_ON_STAND_IN, build
from tests.signoff.shard_spec import merge, record, run_spec, write_spec

MONGODB = next(c for c in CHECKLIST if c.key == "mongodb")
REDIS = next(c for c in CHECKLIST if c.key == "redis")
FERRETDB = {"name": "mongodb", "status": "used", "mode": "embedded", "backend": "FerretDB", "version": "1.24.2", "url": ""}
MONGODB_7 = {"name": "mongodb", "status": "used", "mode": "external", "backend": "MongoDB", "version": "7.0.14", "url": ""}
REDIS_7 = {"name": "redis", "status": "used", "mode": "embedded", "backend": "redis-server", "version": "7.0.15", "url": ""}
WARNING = "$group with 2 accumulators: FerretDB 1.24.2 may return a wrong result (TEST_MONGODB_FIDELITY)"


def _scenario(criterion, name, outcome="passed", **extra) -> dict:
    return {"nodeid": f"features/test_{criterion.key}.py::{name}", "feature": criterion.text, "scenario": name,
            "labels": {"criterion": criterion.key}, "outcome": outcome, "reason": extra.pop("reason", ""),
            "duration": 1.5, "fixtures": [], **extra}  # fmt: skip


def _write_run(directory: Path, scenarios, services, commit="c0ffee1234", **fields) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    run = {"schema": 1, "kind": "complete", "kind_reason": "", "started": "2026-12-01 10:00:00 UTC",
           "finished": "2026-12-01 10:01:00 UTC", "duration_s": 60.0, "command": "pytest features", "exit_status": 0,
           "python": "3.11", "pytest": "9", "git": {"commit": commit, "short": commit[:10], "branch": "main",
           "dirty": False}, "services": services, "scenarios": scenarios, "registered_fixtures": [],
           "coverage": {"source": "not collected", "path": None}, **fields}  # fmt: skip
    (directory / "run.json").write_text(json.dumps(run))
    return directory


def _merged(tmp_path: Path, *runs: Path, expect: int = 0, extra=()) -> tuple[dict, str]:
    status = merge_main(["--out", str(tmp_path / "merged"), *extra, *map(str, runs)])
    assert status == expect
    merged = json.loads((tmp_path / "merged" / "run.json").read_text())
    return merged, (tmp_path / "merged" / "signoff.md").read_text()


def _row(run: dict, key: str):
    return next(row for row in build(run).rows if row.criterion.key == key)


def test_an_embedded_and_an_external_run_show_both_backends_per_criterion(tmp_path):
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    spec = write_spec(tmp_path / "spec")
    embedded = run_spec(spec, "embedded")
    assert embedded.returncode == 0, embedded.stdout[-2000:]
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, Path("/"))
    endpoint, server = PROVIDER.start_embedded(ProvisionContext(settings, "master"))  # the "external" Redis
    try:
        external = run_spec(spec, "external", "--require-services", TEST_REDIS_URL=endpoint.url)
    finally:
        server.stop()
    assert external.returncode == 0, external.stdout[-2000:]
    assert [s["mode"] for s in record(spec / "external")["services"] if s["name"] == "redis"] == ["external"]
    done = merge("--out", str(tmp_path / "merged"), str(spec / "embedded"), str(spec / "external"), cwd=spec)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    merged = json.loads((tmp_path / "merged" / "run.json").read_text())
    row = _row(merged, "redis")
    assert row.verdict == VERIFIED
    assert "(embedded, run a)" in row.on and "(external, run b)" in row.on, row.on
    page = (tmp_path / "merged" / "signoff.md").read_text()
    assert f"All 4 scenarios passed {row.on}." in page
    assert "| A job is queued | Redis fixtures for background job testing | passed | run a: passed; run b: passed |" in page
    html = (tmp_path / "merged" / "signoff.html").read_text()
    assert 'data-run="a"' in html and 'data-run="b"' in html and "redis: redis-server" in html
    assert endpoint.password not in page + html + (tmp_path / "merged" / "run.json").read_text()


@pytest.mark.parametrize("failing_run", [0, 1, 2])
def test_a_failure_in_any_run_fails_its_criterion(tmp_path, failing_run):
    runs = []
    for index in range(3):
        outcome = "failed" if index == failing_run else "passed"
        scenarios = [_scenario(REDIS, "queued", outcome, reason="AssertionError: lost" if outcome == "failed" else "")]
        runs.append(_write_run(tmp_path / f"run{index}", scenarios, [REDIS_7]))
    merged, page = _merged(tmp_path, *runs, expect=1)
    assert _row(merged, "redis").verdict == FAILED
    assert f"run {'abc'[failing_run]}: failed (AssertionError: lost)" in page
    assert build(merged).overall == FAILED


def test_a_skip_in_one_run_does_not_hide_the_pass_of_another_and_both_are_kept(tmp_path):
    skipped = _scenario(REDIS, "queued", "skipped", reason="redis unavailable: set TEST_REDIS_URL")
    a = _write_run(tmp_path / "a", [_scenario(REDIS, "queued")], [REDIS_7])
    b = _write_run(tmp_path / "b", [skipped], [{**REDIS_7, "status": "unavailable", "mode": "external"}])
    merged, page = _merged(tmp_path, a, b)
    assert _row(merged, "redis").verdict == VERIFIED
    assert "run a: passed; run b: skipped (redis unavailable: set TEST_REDIS_URL)" in page
    only_skipped, _page = _merged(tmp_path / "again", b)
    assert _row(only_skipped, "redis").verdict == NOT_VERIFIED


def test_a_criterion_passed_on_the_target_and_on_a_stand_in_names_both_and_reads_verified(tmp_path):
    stand_in = [_scenario(MONGODB, "counts", narrative_fidelity=[WARNING]), _scenario(MONGODB, "finds")]
    a = _write_run(tmp_path / "a", stand_in, [FERRETDB])
    b = _write_run(tmp_path / "b", [_scenario(MONGODB, "counts"), _scenario(MONGODB, "finds")], [MONGODB_7])
    merged, _page = _merged(tmp_path, a, b)
    row = _row(merged, "mongodb")
    assert row.verdict == VERIFIED  # the stand-in's fidelity warning does not cap what MongoDB 7 itself passed
    assert row.on == "on FerretDB 1.24.2, a stand-in for MongoDB 7 (embedded, run a), and on MongoDB 7.0.14 (external, run b)"
    alone, _page = _merged(tmp_path / "alone", a)
    assert _row(alone, "mongodb").verdict == VERIFIED_ON_STAND_IN


def test_runs_of_different_commits_are_refused_in_one_line_unless_allowed(tmp_path, capsys):
    a = _write_run(tmp_path / "a", [_scenario(REDIS, "queued")], [REDIS_7], commit="aaaaaaaaaa11")
    b = _write_run(tmp_path / "b", [_scenario(REDIS, "queued")], [REDIS_7], commit="bbbbbbbbbb22")
    assert merge_main(["--out", str(tmp_path / "merged"), str(a), str(b)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "runs of different commits" in error and "--allow-mixed-commits" in error
    assert "aaaaaaaaaa" in error and "bbbbbbbbbb" in error
    assert not (tmp_path / "merged").exists()
    merged, page = _merged(tmp_path, a, b, extra=["--allow-mixed-commits"])
    assert merged["git"]["short"] == "mixed" and "| a | `aaaaaaaaaa` |" in page and "| b | `bbbbbbbbbb` |" in page


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (lambda path: path.mkdir(), "holds no run record"),
        (lambda path: None, "does not exist"),
        (lambda path: (path.mkdir(), (path / "run.json").write_text("{not json")), "is not a run record"),
    ],
)
def test_a_directory_without_a_readable_record_is_one_line(tmp_path, capsys, arrange, message):
    arrange(tmp_path / "run")
    assert merge_main(["--out", str(tmp_path / "merged"), str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error and "Traceback" not in error


def test_the_runs_coverage_data_are_combined(tmp_path):
    import coverage

    source = Path(__file__).resolve().parents[2] / "fixtures" / "narrative_fixtures" / "shard.py"
    statements = [node.lineno for node in ast.parse(source.read_text()).body]  # module-level statement lines
    runs = []
    for name, lines in (("a", set(statements[1:3])), ("b", set(statements[3:5]))):
        directory = _write_run(tmp_path / name, [_scenario(REDIS, "queued")], [REDIS_7])
        data = coverage.CoverageData(basename=str(directory / ".coverage"))
        data.add_lines({str(source): lines})
        data.write()
        runs.append(directory)
    merged, page = _merged(tmp_path, *runs)
    report = json.loads((tmp_path / "merged" / "coverage.json").read_text())
    (measured,) = [data for path, data in report["files"].items() if path.endswith("narrative_fixtures/shard.py")]
    assert set(statements[1:5]) <= set(measured["executed_lines"])
    assert "coverage combine of 2 runs' data" in merged["coverage"]["source"] and "coverage combine of 2 runs" in page
    assert all((run / ".coverage").exists() for run in runs)  # the runs' own data are kept


def _allure_result(directory: Path, name: str, history: str) -> None:
    result = {"uuid": name, "name": name, "historyId": history, "status": "passed", "parameters": []}
    (directory / f"{name}-result.json").write_text(json.dumps(result))


def test_the_allure_results_of_every_run_are_kept_with_each_runs_environment(tmp_path):
    runs = []
    for name, service in (("a", REDIS_7), ("b", {**REDIS_7, "mode": "external"})):
        directory = _write_run(tmp_path / name, [_scenario(REDIS, "queued")], [service])
        results = directory / "allure-results"
        results.mkdir()
        _allure_result(results, f"uuid-{name}", "same-history-id")
        (results / "environment.properties").write_text(f"git.commit=c0ffee\nservice.redis.mode={service['mode']}\n")
        runs.append(directory)
    _merged(tmp_path, *runs)
    merged = tmp_path / "merged" / "allure-results"
    results = [json.loads(path.read_text()) for path in sorted(merged.glob("*-result.json"))]
    assert [r["uuid"] for r in results] == ["uuid-a", "uuid-b"]
    assert len({r["historyId"] for r in results}) == 2  # one test per backend set, not a retry of the other run
    assert [p["value"] for r in results for p in r["parameters"]] == [
        "redis: redis-server 7.0.15 (embedded)", "redis: redis-server 7.0.15 (external)"
    ]  # fmt: skip
    environment = (merged / "environment.properties").read_text().splitlines()
    assert "run.a.service.redis.mode=embedded" in environment and "run.b.service.redis.mode=external" in environment
    durations = json.loads((tmp_path / "merged" / "test_durations.json").read_text())
    assert durations == {"features/test_redis.py::queued": 1.5}


def test_a_partial_run_adds_its_outcomes_but_only_a_whole_spec_makes_the_merge_complete(tmp_path):
    whole = _write_run(tmp_path / "a", [_scenario(REDIS, "queued"), _scenario(REDIS, "kept")], [REDIS_7])
    part = _write_run(tmp_path / "b", [_scenario(REDIS, "queued")], [{**REDIS_7, "mode": "external"}],
                      kind="partial", kind_reason="only features/test_redis.py")  # fmt: skip
    merged, _page = _merged(tmp_path, whole, part)
    assert merged["kind"] == "complete" and "(external, run b)" in _row(merged, "redis").on
    alone, page = _merged(tmp_path / "alone", part)
    assert alone["kind"] == "partial"
    assert "no run covered the whole spec (run a partial: only features/test_redis.py)" in alone["kind_reason"]
    assert "**Partial run (merged: no run covered the whole spec" in page
