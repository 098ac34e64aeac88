"""Sharding (issue 16 item 2): ``pytest features --shard I/N``, and its shards merged back into the full run.

The spec project (``tests/signoff/shard_spec.py``: 10 scenarios, 4 of them on a real Redis) runs in its own pytest
processes: once whole, then as 3 shards one after another, each with its own reports directory and its own embedded
redis-server; the shards merged must give the full run's verdicts and scenario outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrative_fixtures.signoff.model import FAILED, build
from tests.signoff.shard_spec import SCENARIOS, merge, outcomes, record, run_spec, write_spec


def _verdicts(run: dict) -> dict[str, str]:
    return {row.criterion.key: row.verdict for row in build(run).rows}


def _collected(done) -> list[str]:
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    """The spec project after a full run (``full/``) and its 3 shards run one after another (``s1/``..``s3/``)."""
    path = write_spec(tmp_path_factory.mktemp("spec"))
    done = run_spec(path, "full")
    assert done.returncode == 0, done.stdout[-3000:]
    for index in (1, 2, 3):
        done = run_spec(path, f"s{index}", "--shard", f"{index}/3")
        assert done.returncode == 0, done.stdout[-3000:]
    return path


def test_three_shards_merged_give_the_full_runs_verdicts_and_outcomes(spec):
    full = record(spec / "full")
    shards = [record(spec / f"s{index}") for index in (1, 2, 3)]
    ran = [set(outcomes(shard)) for shard in shards]
    assert all(ran) and sum(map(len, ran)) == SCENARIOS == len(set().union(*ran))  # every scenario, exactly once
    done = merge("--out", str(spec / "merged"), *(str(spec / f"s{index}") for index in (1, 2, 3)), cwd=spec)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    merged = json.loads((spec / "merged" / "run.json").read_text())
    assert merged["kind"] == "complete", merged["kind_reason"]
    merged_outcomes = {s.nodeid: s.outcome for row in build(merged).rows for s in row.scenarios}
    assert merged_outcomes == outcomes(full)
    assert _verdicts(merged) == _verdicts(full)
    assert "Partial run" not in (spec / "merged" / "signoff.md").read_text()


def test_each_shard_reads_partial_and_used_its_own_embedded_services(spec):
    addresses = []
    for index in (1, 2, 3):
        shard = record(spec / f"s{index}")
        assert (shard["kind"], shard["kind_reason"]) == ("partial", f"shard {index} of 3")
        assert shard["shard"]["index"] == index and len(shard["shard"]["spec"]) == SCENARIOS
        assert (spec / f"s{index}" / f"run.shard-{index}-of-3.json").is_file()
        page = (spec / f"s{index}" / f"signoff.shard-{index}-of-3.md").read_text()
        assert f"**Partial run (shard {index} of 3), not the complete sign-off:" in page
        addresses += [s["url"] for s in shard["services"] if s["name"] == "redis" and s["status"] == "used"]
        assert all(s["mode"] == "embedded" for s in shard["services"] if s["status"] == "used")
    assert addresses and len(set(addresses)) == len(addresses)  # no two shards shared a redis-server


def test_a_merge_missing_a_shard_is_partial_and_says_which(spec):
    done = merge("--out", str(spec / "two-of-three"), str(spec / "s1"), str(spec / "s3"), cwd=spec)
    assert done.returncode == 0, done.stderr
    merged = json.loads((spec / "two-of-three" / "run.json").read_text())
    assert merged["kind"] == "partial"
    assert "shard 2 of 3 missing" in merged["kind_reason"] and "of the spec did not run" in merged["kind_reason"]
    assert "**Partial run (merged: shard 2 of 3 missing;" in (spec / "two-of-three" / "signoff.md").read_text()


def test_a_failing_scenario_in_one_shard_fails_its_criterion_in_the_merge(spec, tmp_path):
    failing = "features/test_spec.py::test_a_job_is_retried"  # its step fails under FAIL_SCENARIO=retry
    shard_of_failing = next(index for index in (1, 2, 3) if failing in outcomes(record(spec / f"s{index}")))
    for index in (1, 2, 3):
        done = run_spec(spec, str(tmp_path / f"f{index}"), "--shard", f"{index}/3", FAIL_SCENARIO="retry")
        assert done.returncode == (1 if index == shard_of_failing else 0), done.stdout[-2000:]
    done = merge("--out", str(tmp_path / "merged"), *(str(tmp_path / f"f{index}") for index in (1, 2, 3)), cwd=spec)
    assert done.returncode == 1, done.stdout[-2000:]  # a merged scenario failed
    verdicts = _verdicts(json.loads((tmp_path / "merged" / "run.json").read_text()))
    assert verdicts["redis"] == FAILED
    assert verdicts["documentation"] == verdicts["examples"] == "verified"
    page = (tmp_path / "merged" / "signoff.md").read_text()
    label = "abc"[shard_of_failing - 1]
    assert f"| A job is retried | Redis fixtures for background job testing | failed | run {label}: failed (" in page


def test_shards_are_deterministic_and_balanced_by_recorded_durations(spec, tmp_path):
    first = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2")
    again = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2")
    assert _collected(first) == _collected(again) and len(_collected(first)) == SCENARIOS // 2
    nodeids = list(outcomes(record(spec / "full")))
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({nodeid: (60.0 if nodeid == nodeids[0] else 1.0) for nodeid in nodeids}))
    weighed = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2", "--durations-path", str(durations))
    assert _collected(weighed) == [nodeids[0]]  # the one long scenario is a shard of its own


@pytest.mark.parametrize("value", ["4/3", "two"])
def test_a_bad_shard_is_one_line_naming_the_option_and_the_value(spec, value):
    done = run_spec(spec, "bad", "--shard", value)
    assert done.returncode == 4
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert any("--shard" in line and repr(value) in line for line in lines), done.stderr
    assert "Traceback" not in done.stderr
