"""mutation.evidence: reports of single modules merged, module by module, into the evidence the sign-off reads."""

from __future__ import annotations

import json

from narrative_fixtures.mutation.evidence import main, merge_reports, survivors_page
from narrative_fixtures.signoff.strength import load, of

JOBS, PROVIDER = "narrative_fixtures.services.redis.jobs", "narrative_fixtures.services.redis.provider"


def module(file: str, detected: int, judged: int, survived: int) -> dict:
    return {"file": file, "sha256": "0" * 64, "mutant_seconds": 10.0, "killed": detected, "survived": survived,
            "timed out": 0, "equivalent": 1, "no tests": 0, "not run": 0, "suspicious": 0,
            "total": judged + 1, "detected": detected, "judged": judged, "score": round(100 * detected / judged, 1),
            "complete": True}


def report(date: str, name: str, figures: dict, survivors: list[dict]) -> dict:
    entry = {"date": date, "commit": f"commit-{date}", "tests": ["features/test_redis.py"], "modules": {name: figures},
             "survivors": survivors, "equivalents": []}
    return {"schema": 1, "tool": "mutmut 3.8.1", "date": date, "criteria": {"redis": entry}}


def survivor(name: str, line: int) -> dict:
    return {"module": name, "file": "f.py", "line": line, "function": "f", "change": "a  ->  b", "status": "survived"}


def test_modules_measured_apart_are_summed_the_newest_measurement_of_each_kept(tmp_path):
    jobs_old = report("2026-12-01T10:00:00", JOBS, module("fixtures/narrative_fixtures/services/redis/jobs.py", 8, 38, 30),
                      [survivor(JOBS, n) for n in range(30)])
    jobs_new = report("2026-12-02T10:00:00", JOBS, module("fixtures/narrative_fixtures/services/redis/jobs.py", 38, 38, 0), [])
    provider = report("2026-12-02T09:00:00", PROVIDER,
                      module("fixtures/narrative_fixtures/services/redis/provider.py", 246, 261, 15),
                      [survivor(PROVIDER, n) for n in range(15)])
    merged = merge_reports([jobs_new, provider, jobs_old], tmp_path)  # order does not matter: the dates do
    redis = merged["criteria"]["redis"]
    assert (redis["detected"], redis["judged"], redis["score"]) == (284, 299, 95.0)
    assert len(redis["survivors"]) == 15 and {s["module"] for s in redis["survivors"]} == {PROVIDER}
    assert redis["date"] == "2026-12-02T10:00:00" and redis["commit"] == "commit-2026-12-02T10:00:00"
    assert "fixtures/narrative_fixtures/services/redis/janitor.py" in redis["modules_unmeasured"]
    assert not any(path.endswith(("jobs.py", "provider.py")) for path in redis["modules_unmeasured"])
    assert "Not measured: `fixtures/narrative_fixtures/services/redis/" in survivors_page(merged)


def test_the_command_writes_what_a_fresh_clone_s_sign_off_reads_as_partial(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(report("2026-12-02T10:00:00", JOBS,
                                      module("fixtures/narrative_fixtures/services/redis/jobs.py", 38, 38, 0), [])))
    monkeypatch.chdir(tmp_path)
    assert main([str(path), "--out", "docs"]) == 0
    assert (tmp_path / "docs" / "mutation-survivors.md").exists()
    strength = of(load(tmp_path / "reports", tmp_path), "redis")
    assert strength.measured and strength.status in ("partial", "stale")  # other modules unmeasured; hash differs
    assert "partial:" in strength.text and "modules not measured" in strength.text
