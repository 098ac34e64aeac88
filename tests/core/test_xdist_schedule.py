"""steps.xdist_schedule: under xdist's default ``load`` the acceptance suite's OpenAI feature runs on one worker (its
SDK imported once), every other test is scheduled on its own; another ``--dist`` is left to xdist."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from steps.xdist_schedule import pytest_xdist_make_scheduler, work_unit
from tests.conftest import ROOT

RECORDS = """
import json, os
import pytest

@pytest.mark.parametrize("n", range(6))
def test_{name}(n):
    with open(f"ran-{{os.environ['PYTEST_XDIST_WORKER']}}.jsonl", "a") as out:
        out.write(json.dumps({{"file": "{name}", "n": n}}) + "\\n")
"""


def test_the_openai_feature_is_one_work_unit_and_every_other_node_its_own():
    assert work_unit("features/test_openai.py::test_a_chat_completion[x]") == "features/test_openai.py"
    assert work_unit("features/test_redis.py::test_a_key") == "features/test_redis.py::test_a_key"
    assert work_unit("tests/features/test_openai.py::test_a") == "tests/features/test_openai.py::test_a"


@pytest.mark.parametrize("dist", ["loadfile", "worksteal", "loadscope", "no"])
def test_a_dist_the_user_chose_is_left_to_xdist(dist):
    config = SimpleNamespace(getvalue=lambda name: dist)
    assert pytest_xdist_make_scheduler(config, log=None) is None


@pytest.mark.timeout(180)
def test_under_n_2_the_grouped_feature_runs_on_one_worker_and_the_rest_on_both(project):
    project.makeconftest('pytest_plugins = ["steps.xdist_schedule"]\n')
    (project.path / "features").mkdir()
    (project.path / "features" / "test_openai.py").write_text(RECORDS.format(name="openai"))
    (project.path / "features" / "test_other.py").write_text(RECORDS.format(name="other"))
    project._monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = project.runpytest_subprocess("-n", "2", "-p", "no:randomly", "features")
    result.assert_outcomes(passed=12)
    ran = {path.stem[len("ran-"):]: [json.loads(line) for line in path.read_text().splitlines()]
           for path in project.path.glob("ran-*.jsonl")}
    openai_workers = {worker for worker, records in ran.items() if any(r["file"] == "openai" for r in records)}
    assert len(openai_workers) == 1, ran
    assert sum(r["file"] == "openai" for records in ran.values() for r in records) == 6
    assert len(ran) == 2, "the other tests use both workers"
