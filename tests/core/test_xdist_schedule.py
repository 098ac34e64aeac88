"""steps.xdist_plan and steps.xdist_schedule: under xdist's default ``load`` each service feature of the acceptance
suite runs on one worker (planned by the durations of earlier runs), the other scenarios on whichever worker asks,
the examples last; each worker prestarts only its own features' servers. Another ``--dist`` is left to xdist."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from steps.xdist_plan import PINNED_FILES, SECONDS_CACHE_KEY, plan, read_seconds, remember_seconds
from steps.xdist_schedule import DIST_INPUT, SECONDS_KEY, pytest_narrative_prestart_items, pytest_xdist_make_scheduler
from tests.conftest import ROOT

S3, OPENAI, MONGODB, REDIS = PINNED_FILES
WORKERS = ["gw0", "gw1"]


class Cache(dict):
    """pytest's cache as far as the plan uses it."""

    def get(self, key, default):
        return json.loads(json.dumps(super().get(key, default)))

    def set(self, key, value):
        self[key] = json.loads(json.dumps(value))


def _nodeids(**scenarios: int) -> list[str]:
    return [f"features/test_{name}.py::test_{n}" for name, count in scenarios.items() for n in range(count)]


def test_the_longest_feature_goes_first_each_to_the_worker_with_the_least_planned():
    seconds = {S3: [4.0, 18], OPENAI: [3.2, 39], MONGODB: [2.2, 12], REDIS: [1.1, 13]}
    owners = plan(_nodeids(s3=18, openai=39, mongodb=12, redis=13, compose=6), seconds, WORKERS)
    assert owners == {S3: "gw0", OPENAI: "gw1", MONGODB: "gw1", REDIS: "gw0"}  # 5.1 s and 5.4 s
    assert "features/test_compose.py" not in owners  # not pinned: any worker takes its scenarios


def test_a_feature_is_weighed_by_its_selected_scenarios_and_unknown_ones_by_a_tenth_of_a_second():
    seconds = {S3: [4.0, 20]}  # 0.2 s a scenario
    assert plan(_nodeids(s3=2, openai=5), seconds, WORKERS) == {OPENAI: "gw0", S3: "gw1"}  # 0.5 s > 0.4 s
    assert plan(_nodeids(s3=3, openai=5), seconds, WORKERS) == {S3: "gw0", OPENAI: "gw1"}  # 0.6 s > 0.5 s


def test_the_plan_does_not_depend_on_the_order_of_the_collection():
    nodeids = _nodeids(s3=3, openai=3, mongodb=3, redis=3)
    assert plan(nodeids, {}, WORKERS) == plan(list(reversed(nodeids)), {}, WORKERS)
    assert set(plan(nodeids, {}, ["gw0"]).values()) == {"gw0"}


def test_the_figures_of_files_a_run_did_not_measure_are_kept_and_a_malformed_cache_is_ignored():
    cache = Cache({SECONDS_CACHE_KEY: {S3: [4.0, 18], OPENAI: "soon"}})
    assert read_seconds(cache) == {S3: [4.0, 18]}
    remember_seconds(cache, {REDIS: {"a": 0.25, "b": 0.5}})
    assert read_seconds(cache) == {S3: [4.0, 18], REDIS: [0.75, 2]}
    assert read_seconds(Cache({SECONDS_CACHE_KEY: ["not", "a", "mapping"]})) == {} and read_seconds(None) == {}


@pytest.mark.parametrize("dist", ["loadfile", "worksteal", "loadscope", "no"])
def test_a_dist_the_user_chose_is_left_to_xdist(dist):
    config = SimpleNamespace(getvalue=lambda name: dist)
    assert pytest_xdist_make_scheduler(config, log=None) is None


def _session(workerinput, dist="load"):
    """A session as the plan's hooks see it; a worker's own ``dist`` option is "no" (the controller's comes along)."""
    config = SimpleNamespace(getvalue=lambda name: dist if workerinput is None else "no", stash={SECONDS_KEY: {}})
    if workerinput is not None:
        config.workerinput = {**workerinput, DIST_INPUT: dist}
    return SimpleNamespace(config=config)


def test_a_worker_prestarts_for_its_own_features_and_the_unowned_but_not_the_examples():
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in _nodeids(openai=4, redis=2, compose=1, examples=1)]
    owners = plan([item.nodeid for item in items], {}, WORKERS)
    for worker in WORKERS:
        share = pytest_narrative_prestart_items(_session({"workerid": worker, "workercount": 2}), items)
        own = {file for file, owner in owners.items() if owner == worker}
        assert {item.nodeid.split("::")[0] for item in share} == own | {"features/test_compose.py"}
    assert pytest_narrative_prestart_items(_session(None), items) is None  # no workers: every item
    assert pytest_narrative_prestart_items(_session({"workerid": "gw0", "workercount": 2}, "loadfile"), items) is None


class Worker:
    """What the scheduler sees of an xdist worker; it runs what it was sent when told to, holding back the last
    scenario until more comes or it is shut down, as xdist's worker does."""

    def __init__(self, gateway_id: str) -> None:
        self.gateway = SimpleNamespace(id=gateway_id)
        self.shutting_down = False
        self.sent: list[int] = []
        self.ran = 0

    def send_runtest_some(self, indices) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


def _scheduler(collection: list[str], seconds: dict):
    config = SimpleNamespace(getvalue=lambda name: {"tx": ["2*popen"], "dist": "load"}[name],
                             stash={SECONDS_KEY: seconds}, option=SimpleNamespace(loadscopereorder=True))
    scheduler = pytest_xdist_make_scheduler(config, log=None)
    workers = {worker_id: Worker(worker_id) for worker_id in WORKERS}
    for worker in workers.values():
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    return scheduler, workers


def _run(scheduler, workers: dict, steps: list[str]) -> None:
    """At each step the named worker finishes one scenario it may run (none when it may run none)."""
    for worker_id in steps:
        worker = workers[worker_id]
        runnable = len(worker.sent) - worker.ran - (0 if worker.shutting_down else 1)
        if runnable > 0 and worker in scheduler.nodes:
            scheduler.mark_test_complete(worker, worker.sent[worker.ran])
            worker.ran += 1


def _simulate(collection: list[str], seconds: dict, steps: list[str]) -> dict[str, list[str]]:
    """Run the scheduler through ``steps``, then each worker to its end. What each worker was sent."""
    scheduler, workers = _scheduler(collection, seconds)
    _run(scheduler, workers, steps + [w for w in WORKERS for _ in collection])
    assert scheduler.tests_finished and all(worker.shutting_down for worker in workers.values())
    return {worker_id: [collection[i] for i in worker.sent] for worker_id, worker in workers.items()}


def test_the_scenarios_a_worker_that_died_was_to_run_go_to_the_others():
    collection = _nodeids(s3=6, openai=2)
    scheduler, workers = _scheduler(collection, {S3: [4.0, 6], OPENAI: [0.5, 2]})
    scheduler.remove_node(workers["gw0"])  # it crashed in its first scenario
    _run(scheduler, workers, ["gw1"] * len(collection) * 2)
    assert scheduler.tests_finished and workers["gw1"].shutting_down
    assert _files(collection[i] for i in workers["gw1"].sent).count("s3") >= 6 - len(workers["gw0"].sent)


def _files(nodeids) -> list[str]:
    return [nodeid.split("::")[0].removeprefix("features/test_").removesuffix(".py") for nodeid in nodeids]


def test_a_worker_runs_its_own_features_then_the_others_and_the_examples_when_nothing_else_is_left():
    collection = _nodeids(compose=3, s3=4, openai=4, examples=2)  # the unowned come first in the queue
    ran = _simulate(collection, {S3: [4.0, 4], OPENAI: [1.0, 4]}, ["gw0", "gw1"] * 3 + ["gw1"] * 6)
    assert _files(ran["gw0"])[:4] == ["s3"] * 4 and "openai" not in _files(ran["gw0"])
    assert _files(ran["gw1"])[:4] == ["openai"] * 4 and "s3" not in _files(ran["gw1"])
    assert sorted(_files(ran["gw0"] + ran["gw1"])) == sorted(_files(collection))  # each scenario once
    for worker in WORKERS:
        files = _files(ran[worker])
        assert "examples" not in files or set(files[files.index("examples"):]) == {"examples"}, files


def test_a_worker_with_nothing_else_left_takes_over_the_other_workers_scenarios():
    collection = _nodeids(s3=12, openai=2, examples=1)
    ran = _simulate(collection, {S3: [1.0, 12], OPENAI: [0.5, 2]}, ["gw1"] * 6)  # gw0 is stuck in its first
    assert _files(ran["gw1"])[:3] == ["openai", "openai", "s3"]  # it did not wait idle, nor took the examples
    assert sorted(_files(ran["gw0"] + ran["gw1"])) == sorted(_files(collection))


RECORDS = """
import json, os
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_{name}(n):
    with open("ran.jsonl", "a") as out:
        out.write(json.dumps({{"worker": os.environ["PYTEST_XDIST_WORKER"], "file": "{name}", "n": n}}) + "\\n")
"""


SHARE_CONFTEST = """
import json, os
pytest_plugins = ["steps.xdist_schedule"]

def pytest_collection_finish(session):  # what each worker's prestart is told it will run
    share = session.config.hook.pytest_narrative_prestart_items(session=session, items=session.items)
    files = sorted({item.nodeid.split("::")[0][len("features/test_"):-3] for item in share or ()})
    with open(f"share-{os.environ['PYTEST_XDIST_WORKER']}.json", "w") as out:
        json.dump(files if share is not None else None, out)
"""


@pytest.mark.timeout(180)
def test_under_n_2_the_plan_comes_from_the_cached_figures_and_this_run_s_figures_are_cached(project):
    project.makeconftest(SHARE_CONFTEST)
    (project.path / "features").mkdir()
    counts = {"s3": 6, "openai": 6, "mongodb": 3, "redis": 3, "compose": 8, "examples": 2}
    for name, count in counts.items():
        (project.path / "features" / f"test_{name}.py").write_text(RECORDS.format(name=name, count=count))
    cache_dir = project.path / ".pytest_cache" / "v" / "narrative"
    cache_dir.mkdir(parents=True)  # earlier figures: s3 is slow, the others quick
    (cache_dir / "feature-seconds").write_text(json.dumps({f"features/test_{n}.py": [s, 1] for n, s in
                                                           {"s3": 1.0, "openai": 0.1, "mongodb": 0.1}.items()}))
    project._monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = project.runpytest_subprocess("-n", "2", "-p", "no:randomly", "features")
    result.assert_outcomes(passed=sum(counts.values()))
    ran = [json.loads(line) for line in (project.path / "ran.jsonl").read_text().splitlines()]
    first_of = {r["file"]: r["worker"] for r in ran if r["n"] == 0}  # sent when the run began: by the plan alone
    assert first_of["s3"] == "gw0" and first_of["openai"] == "gw1", first_of  # s3 is slow: openai joins the other
    for worker in WORKERS:
        files = [r["file"] for r in ran if r["worker"] == worker]
        assert "examples" not in files or set(files[files.index("examples"):]) == {"examples"}, files
    shares = {worker: json.loads((project.path / f"share-{worker}.json").read_text()) for worker in WORKERS}
    assert shares == {"gw0": ["compose", "s3"], "gw1": ["compose", "mongodb", "openai", "redis"]}, shares
    figures = json.loads((cache_dir / "feature-seconds").read_text())
    assert figures["features/test_redis.py"][1] == 3 and "features/test_compose.py" not in figures
