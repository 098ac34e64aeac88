"""Under pytest-xdist every worker has its own Redis database, MongoDB database, S3 bucket and OpenAI fake (and
script), on the servers the workers share (core.shared_servers)."""

from __future__ import annotations

import json
import re

import pytest

from tests.mongodb_support import point_nested_runs_at

RECORDS = """
import json, os
from urllib.parse import urlsplit
import pytest

def _record(**fields):
    with open(f"seen-{os.environ['PYTEST_XDIST_WORKER']}.jsonl", "a") as out:
        out.write(json.dumps({"worker": os.environ["PYTEST_XDIST_WORKER"], **fields}) + "\\n")


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(6))
async def test_redis(redis_service, redis_client, n):
    assert await redis_client.dbsize() == 0, "another test's keys are visible"
    await redis_client.set(f"key-{n}", "x")
    address = urlsplit(redis_service.url)
    _record(service="redis", where=f"{address.port}{address.path}", pid=redis_service.details.get("pid"))


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(6))
async def test_mongodb(mongodb_service, setup_database, n):
    assert await setup_database.scratch.count_documents({}) == 0, "another test's documents are visible"
    await setup_database.scratch.insert_one({"n": n})
    _record(service="mongodb", where=f"{urlsplit(mongodb_service.url).port}/{setup_database.name}")


@pytest.mark.parametrize("n", range(6))
def test_s3(s3_service, s3_client, test_s3_bucket, n):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0, "another test's objects are visible"
    s3_client.put_object(Bucket=test_s3_bucket, Key=f"k-{n}", Body=b"x")
    _record(service="s3", where=f"{urlsplit(s3_service.url).port}/{test_s3_bucket}")


@pytest.mark.parametrize("n", range(6))
def test_openai(openai_server, openai_sync_client, n):
    assert openai_server.requests == [] and openai_server.pending == 0, "another test's script is visible"
    openai_server.reply(f"answer {n}")
    answer = openai_sync_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "q"}])
    assert answer.choices[0].message.content == f"answer {n}"
    _record(service="openai", where=openai_server.url)
"""


@pytest.mark.timeout(180)
def test_each_xdist_worker_has_its_own_instance_of_every_service(project):
    point_nested_runs_at(project)
    project.makepyfile(test_everywhere=RECORDS)
    # --dist each: both workers run every test at the same time, so both use every service
    result = project.runpytest_subprocess("-n", "2", "--dist", "each", "--require-services")
    result.assert_outcomes(passed=48)
    seen = [json.loads(line) for path in project.path.glob("seen-gw*.jsonl") for line in path.read_text().splitlines()]
    assert {entry["worker"] for entry in seen} == {"gw0", "gw1"}
    for service in ("redis", "mongodb", "s3", "openai"):
        by_worker: dict[str, set[str]] = {}
        for entry in seen:
            if entry["service"] == service:
                by_worker.setdefault(entry["worker"], set()).add(entry["where"])
        assert all(len(places) == 1 for places in by_worker.values()), f"{service}: a worker moved: {by_worker}"
        places = [next(iter(places)) for places in by_worker.values()]
        assert len(set(places)) == len(places), f"{service}: two workers shared {places}"
        assert len(by_worker) == 2, f"{service}: both workers should have used it: {by_worker}"
    for entry in seen:  # the database and the bucket are named for their worker
        if entry["service"] == "mongodb":
            assert entry["where"].endswith(f"/narrative_test_{entry['worker']}")
        if entry["service"] == "s3":  # with the run's id: the workers share one S3 server (core.shared_servers)
            assert re.search(rf"/test-narrative-bucket-[0-9a-f]{{12}}-{entry['worker']}$", entry["where"]), entry


@pytest.mark.parametrize(("worker", "db"), [("master", 3), ("gw0", 3), ("gw1", 4), ("gw12", 15), ("gw13", 0)])
def test_an_external_redis_gives_each_worker_its_own_database(monkeypatch, worker, db):
    from narrative_fixtures.services.redis import external_url

    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    assert external_url("redis://:pw@localhost:6380/3", worker).endswith(f"@localhost:6380/{db}")


FACTORY_DATABASE = """
import os, pathlib, time
import pytest
from narrative_fixtures.services.redis import redis_client_factory

redis_jobs = redis_client_factory(db=3)


def _wait_for_the_other_worker(mine: str) -> None:
    pathlib.Path(f"written-{mine}").touch()
    other = "gw1" if mine == "gw0" else "gw0"
    for _ in range(1200):  # both workers hold their key at once (bounded: 60 s, then the assertion says so)
        if pathlib.Path(f"written-{other}").exists():
            return
        time.sleep(0.05)


@pytest.mark.asyncio
async def test_each_worker_sees_only_its_own_keys_in_a_factory_database(redis_jobs, redis_client, redis_service):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    await redis_jobs.set(f"from-{worker}", "x")
    _wait_for_the_other_worker(worker)
    assert await redis_jobs.keys("*") == [f"from-{worker}"], "another worker's keys are visible"
    db = (await redis_jobs.client_info())["db"]
    assert db != redis_service.db
    pathlib.Path(f"db-{worker}").write_text(str(db))
"""


@pytest.mark.timeout(180)
def test_a_factory_database_on_the_servers_the_workers_share_is_one_per_worker(project):
    project.makepyfile(test_factory_database=FACTORY_DATABASE)
    # --dist each: both workers run the test at the same time on the Redis they share
    result = project.runpytest_subprocess("-n", "2", "--dist", "each", "--require-services", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*shared by the run's xdist workers*"])
    result.assert_outcomes(passed=2)
    databases = {(project.path / f"db-{worker}").read_text() for worker in ("gw0", "gw1")}
    assert len(databases) == 2, f"the workers shared factory database {databases}"


CLEARS_THE_ENVIRONMENT = """
import os, time
from unittest import mock


def test_an_app_config_test_runs_with_an_empty_environment():
    with mock.patch.dict(os.environ, clear=True):  # while the shared servers are started and named
        time.sleep(4)
"""

NAMES_THE_WORKER_SEES = """
import json, os
import pytest


@pytest.mark.asyncio
async def test_names(redis_service, redis_client, mongodb_service, setup_database, s3_service, test_s3_bucket):
    await redis_client.set("x", "y")
    worker = os.environ["PYTEST_XDIST_WORKER"]
    with open(f"names-{worker}.json", "w") as out:
        json.dump({"redis": redis_service.db, "mongodb": setup_database.name, "s3": test_s3_bucket}, out)
"""


@pytest.mark.timeout(180)
def test_a_test_that_empties_the_environment_while_servers_start_leaves_the_workers_names_apart(project):
    point_nested_runs_at(project)
    project.makepyfile(test_a_first=CLEARS_THE_ENVIRONMENT, test_b_names=NAMES_THE_WORKER_SEES)
    result = project.runpytest_subprocess("-n", "2", "--dist", "each", "--require-services", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    for index, worker in enumerate(("gw0", "gw1")):
        names = json.loads((project.path / f"names-{worker}.json").read_text())
        assert names["redis"] == index, names
        assert names["mongodb"] == f"narrative_test_{worker}", names
        assert names["s3"].endswith(f"-{worker}"), names
