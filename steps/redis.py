"""Steps of the Redis feature: thin, they use the plugin's fixtures through ``run_async`` and assert."""

from __future__ import annotations

import json
import os
import time

import pytest
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.redis import JOB_QUEUE, make_job
from steps.nested import run_nested


def _names(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.replace(" and ", ", ").split(",") if part.strip()]


@given("a Redis database for this test", target_fixture="redis")
def redis_database(redis_client, run_async):
    assert run_async(redis_client.dbsize()) == 0, "the test did not start with an empty Redis database"
    return redis_client


@then("the Redis server answers")
def redis_answers(redis, run_async):
    assert run_async(redis.ping()) is True


@then(parsers.parse("the Redis server is a real redis-server of version {major:d} or newer"))
def redis_version(redis, run_async, redis_service, major):
    info = run_async(redis.info("server"))
    assert int(info["redis_version"].split(".")[0]) >= major
    assert info["redis_version"] == redis_service.version


@then("the Redis database holds no keys")
def redis_empty(redis, run_async):
    assert run_async(redis.keys("*")) == []


@given("the application reads its Redis address from the environment the run gives it", target_fixture="app_redis")
def app_reads_its_settings(service_environment, monkeypatch):
    """An app that builds its own client from ``REDIS_URL`` (as a FastAPI app's settings would), not the fixture."""
    import redis as redis_library

    for name, value in service_environment.items():
        monkeypatch.setenv(name, value)
    client = redis_library.Redis.from_url(os.environ["REDIS_URL"])
    yield client
    client.close()


@when("the application queues a job through its own connection", target_fixture="job")
def app_queues_a_job(app_redis):
    job = make_job(job_id="job-from-the-app")
    app_redis.lpush(JOB_QUEUE, json.dumps(job))
    return job


@given("a pending training job has been queued", target_fixture="job")
def queued_job(test_redis_job):
    return test_redis_job


@then("the job is waiting in the job queue")
def job_waiting(redis, run_async, job):
    queued = [json.loads(item) for item in run_async(redis.lrange(JOB_QUEUE, 0, -1))]
    assert [item["job_id"] for item in queued] == [job["job_id"]]
    assert queued[0]["status"] == "pending"


@then("the job's details can be read back exactly as they were queued")
def job_details(redis, run_async, job):
    assert json.loads(run_async(redis.get(f"job:{job['job_id']}"))) == job


@then(parsers.parse('the job is a "{kind}" job of user "{user}" on dataset "{dataset}"'))
def job_owner(redis, run_async, job, kind, user, dataset):
    stored = json.loads(run_async(redis.get(f"job:{job['job_id']}")))
    assert (stored["type"], stored["user_id"], stored["dataset_id"]) == (kind, user, dataset)


@then("the job is pending at 0 percent, with the model it trains and the time it was queued")
def job_starting_state(redis, run_async, job):
    from datetime import datetime, timedelta, timezone

    stored = json.loads(run_async(redis.get(f"job:{job['job_id']}")))
    assert (stored["status"], stored["progress"]) == ("pending", 0)
    assert stored["params"] == {"model_type": "random_forest", "target": "value"}
    queued_at = datetime.fromisoformat(stored["created_at"])
    assert queued_at.tzinfo is not None and abs(datetime.now(timezone.utc) - queued_at) < timedelta(hours=1)


@then("every queued job has an id of its own")
def job_ids_unique(job):
    ids = {job["job_id"], *(make_job()["job_id"] for _ in range(20))}
    assert len(ids) == 21 and all(job_id.startswith("test-job-") and len(job_id) == 21 for job_id in ids)


@when(parsers.parse('the jobs {names} are queued on "{queue}"'))
def queue_jobs(redis, run_async, names, queue):
    for name in _names(names):
        run_async(redis.lpush(queue, json.dumps(make_job(job_id=name))))


@then(parsers.parse('workers take the jobs from "{queue}" in the order {names}'))
def take_in_order(redis, run_async, queue, names):
    taken = []
    while (item := run_async(redis.rpop(queue))) is not None:
        taken.append(json.loads(item)["job_id"])
    assert taken == _names(names)


@then(parsers.parse('"{queue}" is empty afterwards'))
def queue_empty(redis, run_async, queue):
    assert run_async(redis.llen(queue)) == 0
    assert run_async(redis.exists(queue)) == 0


@when(parsers.parse('a worker marks the job "{status}" at {progress:d} percent'))
def mark_job(redis, run_async, job, status, progress):
    key = f"job:{job['job_id']}"
    stored = json.loads(run_async(redis.get(key)))
    stored.update(status=status, progress=progress)
    run_async(redis.set(key, json.dumps(stored), xx=True))


@then(parsers.parse('the stored job shows status "{status}" and progress {progress:d}'))
def job_status(redis, run_async, job, status, progress):
    stored = json.loads(run_async(redis.get(f"job:{job['job_id']}")))
    assert (stored["status"], stored["progress"]) == (status, progress)
    assert stored["job_id"] == job["job_id"]


@when(parsers.parse("a job result is stored with a time to live of {ttl_ms:d} milliseconds"), target_fixture="result")
def store_with_ttl(redis, run_async, ttl_ms):
    key = "job_result:ttl-demo"
    run_async(redis.set(key, json.dumps({"accuracy": 0.93}), px=ttl_ms))
    return {"key": key, "ttl_ms": ttl_ms, "stored_at": time.monotonic()}


@then("the job result is readable while it is fresh")
def result_fresh(redis, run_async, result):
    remaining = run_async(redis.pttl(result["key"]))
    assert 0 < remaining <= result["ttl_ms"]
    assert json.loads(run_async(redis.get(result["key"]))) == {"accuracy": 0.93}


@then("the job result is gone once its time to live has passed")
def result_expired(redis, run_async, result):
    time.sleep(max(0.0, result["stored_at"] + result["ttl_ms"] / 1000 + 0.05 - time.monotonic()))
    assert run_async(redis.get(result["key"])) is None
    assert run_async(redis.exists(result["key"])) == 0


@then(parsers.parse('"{first}" holds {first_count:d} jobs and "{second}" holds {second_count:d} jobs'))
def queue_lengths(redis, run_async, first, first_count, second, second_count):
    assert run_async(redis.llen(first)) == first_count
    assert run_async(redis.llen(second)) == second_count


@when("jobs are queued with these priorities:")
def queue_prioritised(redis, run_async, datatable):
    header, *rows = datatable
    for row in rows:
        record = dict(zip(header, row))
        run_async(redis.zadd("priority_queue", {record["job"]: float(record["priority"])}))


@then(parsers.parse("workers take the prioritised jobs in the order {names}"))
def take_prioritised(redis, run_async, names):
    taken = []
    while popped := run_async(redis.zpopmax("priority_queue")):
        taken.append(popped[0][0])
    assert taken == _names(names)


@given(parsers.parse('a subscriber listening on "{channel}"'), target_fixture="subscriber")
def subscriber(redis, run_async, channel):
    pubsub = redis.pubsub()
    run_async(pubsub.subscribe(channel))
    confirmation = run_async(pubsub.get_message(timeout=2))
    assert confirmation and confirmation["type"] == "subscribe"
    yield pubsub
    run_async(pubsub.aclose())


@when(parsers.parse('the update "{message}" is published on "{channel}"'))
def publish(redis, run_async, message, channel):
    assert run_async(redis.publish(channel, message)) == 1  # exactly one subscriber received it


@then(parsers.parse('the subscriber receives "{message}"'))
def received(subscriber, run_async, message):
    delivered = run_async(subscriber.get_message(ignore_subscribe_messages=True, timeout=2))
    assert delivered is not None, "no message arrived within 2 s"
    assert delivered["data"] == message


ISOLATION_TESTS = '''
import pytest

@pytest.mark.asyncio
async def test_one_writes(redis_client, test_redis_job):
    await redis_client.set("left:behind", "by test one")
    assert await redis_client.dbsize() == 3  # the job key, the queue and our key

@pytest.mark.asyncio
async def test_two_sees_nothing(redis_client):
    assert await redis_client.keys("*") == []
'''


@then("a test that writes to Redis leaves nothing behind for the test after it")
def isolation(pytester: pytest.Pytester, redis_service):
    # Two ordinary pytest-asyncio tests of "another project", run in order on this run's Redis server.
    result = run_nested(pytester, ISOLATION_TESTS, TEST_REDIS_URL=redis_service.url, TEST_REDIS_MODE="external")
    result.assert_outcomes(passed=2)


FACTORY_CONFTEST = """
from narrative_fixtures.services.redis import redis_client_factory, redis_server_factory

redis_reports = redis_client_factory(db=3)
redis_cache = redis_server_factory("cache")
redis_cache_client = redis_client_factory("redis_cache")
"""

FACTORY_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("run", [1, 2])
async def test_each_starts_empty_and_keeps_its_own_keys(redis_client, redis_reports, redis_cache_client, run):
    clients = (redis_client, redis_reports, redis_cache_client)
    assert [await client.dbsize() for client in clients] == [0, 0, 0]
    for number, client in enumerate(clients):
        await client.set("owner", number)
    assert [await client.get("owner") for client in clients] == ["0", "1", "2"]
"""


@when("a project adds a Redis database and a Redis server of its own with the plugin's factories",
      target_fixture="factory_run")
def factory_run(pytester: pytest.Pytester, redis_service):
    pytester.makeconftest(FACTORY_CONFTEST)  # three lines of the project's conftest, no code copied
    return run_nested(pytester, FACTORY_TESTS, TEST_REDIS_URL=redis_service.url, TEST_REDIS_MODE="external")


@then("each of them starts empty for every test and keeps its keys apart from the others")
def factory_isolation(factory_run):
    factory_run.assert_outcomes(passed=2)
