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
from tests.signoff.shard_spec import (
    JUDGING_FEATURE, SCENARIOS, examples_feature, merge, outcomes, record, run_features, run_spec, write_spec,
)  # fmt: skip


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
    assert verdicts["documentation"] == verdicts["compose"] == "verified"
    page = (tmp_path / "merged" / "signoff.md").read_text()
    label = "abc"[shard_of_failing - 1]
    assert f"| A job is retried | Redis fixtures for background job testing | failed | run {label}: failed (" in page


def test_shards_are_deterministic_and_balanced_by_recorded_durations(spec, tmp_path):
    first = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2")
    again = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2")
    assert _collected(first) == _collected(again) and len(_collected(first)) == SCENARIOS // 2
    nodeids = sorted(outcomes(record(spec / "full")))  # shards are cut from the scenarios in nodeid order
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({nodeid: (60.0 if nodeid == nodeids[0] else 1.0) for nodeid in nodeids}))
    weighed = run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2", "--durations-path", str(durations))
    assert _collected(weighed) == [nodeids[0]]  # the one long scenario is a shard of its own


def test_a_shard_under_xdist_records_the_spec_its_workers_collected(spec):
    done = run_spec(spec, "xdist", "--shard", "2/3", "-n", "2")
    assert done.returncode == 0, done.stdout[-2000:]
    shard = record(spec / "xdist")
    assert shard["kind_reason"] == "shard 2 of 3" and len(shard["shard"]["spec"]) == SCENARIOS
    assert set(outcomes(shard)) == set(outcomes(record(spec / "s2")))  # the same split as without xdist


def test_a_shuffled_order_cuts_the_same_shards(spec):
    """pytest-randomly shuffles every run its own way: each shard still holds the same scenarios."""
    cut = {seed: sorted(_collected(run_spec(spec, "collect", "--collect-only", "-q", "--shard", "1/2",
                                            f"--randomly-seed={seed}"))) for seed in (1, 2, 3)}  # fmt: skip
    assert cut[1] == cut[2] == cut[3] and len(cut[1]) == SCENARIOS // 2


@pytest.mark.parametrize("value", ["4/3", "two"])
def test_a_bad_shard_is_one_line_naming_the_option_and_the_value(spec, value):
    done = run_spec(spec, "bad", "--shard", value)
    assert done.returncode == 4
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert any("--shard" in line and repr(value) in line for line in lines), done.stderr
    assert "Traceback" not in done.stderr


def test_real_features_in_three_shards_merge_into_the_whole_runs_verdicts(tmp_path):
    """The one check on the repository's own features (Redis on its embedded redis-server, Docker Compose, and the
    examples criterion, which runs in no shard and is judged in the merge over every shard's records)."""
    features = ["features/test_redis.py", "features/test_compose.py", "features/test_examples.py"]
    whole = run_features(tmp_path / "whole", *features)
    assert whole.returncode in (0, 1), whole.stdout[-3000:]
    for index in (1, 2, 3):
        shard = run_features(tmp_path / f"s{index}", *features, "--shard", f"{index}/3")
        assert shard.returncode in (0, 1), shard.stdout[-3000:]
        assert record(tmp_path / f"s{index}")["kind_reason"].startswith(f"shard {index} of 3; only features/")
    shards = [str(tmp_path / f"s{index}") for index in (1, 2, 3)]
    # the work tree is shared: a commit made meanwhile must not fail this check (the commit rule is tested apart)
    done = merge("--out", str(tmp_path / "merged"), "--allow-mixed-commits", *shards, cwd=tmp_path)
    assert done.returncode == whole.returncode, done.stdout[-2000:] + done.stderr
    merged = json.loads((tmp_path / "merged" / "run.json").read_text())
    assert merged["kind"] == "partial"  # shards of a selection are that selection, never the complete sign-off
    whole_run = record(tmp_path / "whole")
    assert {s.nodeid: s.outcome for row in build(merged).rows for s in row.scenarios} == outcomes(whole_run)
    assert _verdicts(merged) == _verdicts(whole_run)
    examples = [s for s in merged["scenarios"] if s["criterion"] == "examples"]
    assert examples and all(s.get("judged_in_merge") for s in examples)  # judged in the merge, none left not run


def test_a_criterion_the_merge_cannot_judge_is_left_to_a_whole_run_and_shown_as_not_run(spec, tmp_path):
    judged = write_spec(tmp_path / "judged")
    (judged / "features" / "judging.feature").write_text(JUDGING_FEATURE)  # a step that is not the examples'
    for index in (1, 2):
        done = run_spec(judged, f"s{index}", "--shard", f"{index}/2")
        assert done.returncode == 0, done.stdout[-2000:]
        assert "every_fixture_is_shown_at_work" not in str(outcomes(record(judged / f"s{index}")))  # in no shard
    shards = [str(judged / f"s{index}") for index in (1, 2)]
    done = merge("--out", str(tmp_path / "shards-only"), *shards, cwd=judged)
    assert done.returncode == 0, done.stderr
    merged = json.loads((tmp_path / "shards-only" / "run.json").read_text())
    assert merged["kind"] == "partial" and "1 scenario judging a whole run ran in no shard" in merged["kind_reason"]
    row = next(row for row in build(merged).rows if row.criterion.key == "examples")
    assert row.verdict == "NOT verified" and row.scenarios[0].outcome == "not run"
    assert "runs in no shard" in row.evidence
    whole = run_spec(judged, "whole")  # the whole run judges it (in CI: the external-mode job runs the whole spec)
    assert whole.returncode == 0, whole.stdout[-2000:]
    done = merge("--out", str(tmp_path / "with-whole"), *shards, str(judged / "whole"), cwd=judged)
    merged = json.loads((tmp_path / "with-whole" / "run.json").read_text())
    assert merged["kind"] == "complete", merged["kind_reason"]
    assert _verdicts(merged) == _verdicts(record(judged / "whole"))


def _examples_project(path: Path, fixture: str) -> Path:
    """The spec with the examples criterion's real steps judging ``fixture``, run whole (``full/``) and in 3 shards."""
    project = write_spec(path)
    (project / "features" / "examples_judged.feature").write_text(examples_feature(fixture))
    whole = run_spec(project, "full")
    shards = [run_spec(project, f"s{index}", "--shard", f"{index}/3") for index in (1, 2, 3)]
    assert whole.returncode in (0, 1) and all(done.returncode == 0 for done in shards), whole.stdout[-3000:]
    return project


def _merged_shards(project: Path, out: str, *indexes: int) -> dict:
    done = merge("--out", str(project / out), *(str(project / f"s{index}") for index in indexes), cwd=project)
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr
    return json.loads((project / out / "run.json").read_text())


def test_the_examples_criterion_is_judged_over_every_shards_records_as_the_full_run_judges_it(tmp_path):
    project = _examples_project(tmp_path / "used", "redis_service")
    full = record(project / "full")
    assert full["exit_status"] == 0 and len(outcomes(full)) == SCENARIOS + 2
    for index in (1, 2, 3):  # the examples ran in no shard
        assert not any("examples_judged" in nodeid for nodeid in outcomes(record(project / f"s{index}")))
    merged = _merged_shards(project, "merged", 1, 2, 3)
    assert merged["kind"] == "complete", merged["kind_reason"]
    assert {s.nodeid: s.outcome for row in build(merged).rows for s in row.scenarios} == outcomes(full)
    assert _verdicts(merged) == _verdicts(full) and _verdicts(merged)["examples"] == "verified"
    page = (project / "merged" / "signoff.md").read_text()
    assert "Partial run" not in page and "judged in the merge over the records of runs a, b, c" in page
    missing = _merged_shards(project, "two-of-three", 1, 3)  # a part of the records proves nothing: not judged
    row = next(row for row in build(missing).rows if row.criterion.key == "examples")
    assert missing["kind"] == "partial" and row.verdict == "NOT verified"
    assert {s.outcome for s in row.scenarios} == {"not run"}


def test_a_fixture_no_shard_uses_fails_the_examples_criterion_in_the_merge(tmp_path):
    project = _examples_project(tmp_path / "unused", "redis_client")  # registered, used by no scenario of the spec
    full = record(project / "full")
    merged = _merged_shards(project, "merged", 1, 2, 3)
    assert {s.nodeid: s.outcome for row in build(merged).rows for s in row.scenarios} == outcomes(full)
    assert _verdicts(merged) == _verdicts(full) and _verdicts(merged)["examples"] == FAILED
    failed = [s for s in merged["scenarios"] if s["outcome"] == "failed"]
    assert [s["scenario"] for s in failed] == ["The fixture redis_client is shown at work in a passing example"]
    assert "no passing scenario uses 'redis_client'" in failed[0]["reason"]
