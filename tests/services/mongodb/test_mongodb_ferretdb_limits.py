"""Minimal reproductions of what the embedded FerretDB 1.24.2 (SQLite) cannot serve, as docs/ferretdb-notes.md says.

Each test asserts the limitation *is there*: if a FerretDB upgrade lifts one, its test fails and the notes, the
default models and the steps can drop their work-around. Each also checks that the work-around really works.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pymongo
import pytest
from bson import DBRef, ObjectId
from pymongo.errors import OperationFailure, WriteError


@pytest.fixture
def database(ferretdb):
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    client.drop_database("limits_test")
    yield client["limits_test"]
    client.drop_database("limits_test")
    client.close()


def test_a_dbref_cannot_be_stored_so_links_are_stored_as_manual_references(database):
    # Beanie stores a Link as a DBRef ({"$ref": ..., "$id": ...}); FerretDB 1.x rejects keys starting with '$'.
    dataset_id = ObjectId()
    with pytest.raises(WriteError, match=r"invalid key: \"\$ref\" \(key must not start with '\$' sign\)"):
        database.trained_models.insert_one({"dataset": DBRef("user_data", dataset_id)})
    database.trained_models.insert_one({"dataset": dataset_id})  # the manual reference our TrainedModel stores
    assert database.trained_models.count_documents({"dataset": dataset_id}) == 1


def test_lookup_is_not_implemented_so_links_are_fetched_one_by_one(database):
    # Beanie's fetch_links=True builds a $lookup pipeline; Link.fetch() / fetch_link() run a find by _id instead.
    database.user_data.insert_one({"_id": 1})
    database.trained_models.insert_one({"_id": 2, "dataset": 1})
    with pytest.raises(OperationFailure, match=r'`aggregate` stage "\$lookup" is not implemented yet') as failure:
        list(database.trained_models.aggregate([
            {"$lookup": {"from": "user_data", "localField": "dataset", "foreignField": "_id", "as": "ds"}}
        ]))
    assert failure.value.code == 238  # NotImplemented
    assert database.user_data.find_one({"_id": database.trained_models.find_one({"_id": 2})["dataset"]}) == {"_id": 1}


def test_only_the_first_accumulator_of_a_group_sees_the_documents(database):
    # FerretDB 1.24 hands one iterator to all accumulators of a $group: the first drains it, the rest see nothing.
    database.user_data.insert_many([{"category": "sales", "rows": rows} for rows in (1200, 800)])
    both = list(database.user_data.aggregate([
        {"$group": {"_id": "$category", "datasets": {"$sum": 1}, "rows": {"$sum": "$rows"}}}
    ]))
    assert both == [{"_id": "sales", "datasets": 2, "rows": 0}], "MongoDB answers rows: 2000"
    swapped = list(database.user_data.aggregate([
        {"$group": {"_id": "$category", "rows": {"$sum": "$rows"}, "datasets": {"$sum": 1}}}
    ]))
    assert swapped == [{"_id": "sales", "rows": 2000, "datasets": 0}]
    # the work-around: one accumulator per $group
    assert list(database.user_data.aggregate([{"$group": {"_id": "$category", "rows": {"$sum": "$rows"}}}])) == [
        {"_id": "sales", "rows": 2000}
    ]


@pytest.mark.parametrize("accumulator", ["$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet"])
def test_group_accumulators_other_than_sum_and_count_are_not_implemented(database, accumulator):
    database.user_data.insert_one({"category": "sales", "rows": 1})
    with pytest.raises(OperationFailure, match=rf'\$group accumulator "\{accumulator}" is not implemented yet'):
        list(database.user_data.aggregate([{"$group": {"_id": "$category", "x": {accumulator: "$rows"}}}]))


# A race is tried until it shows or this many seconds of trying have passed: a round count alone was too few on a
# loaded machine (a round's requests then rarely overlap). Not a timing assertion; only a bound on the search.
TRY_RACE_FOR_S = 120.0


async def _claim_concurrently(url: str, jobs: int, workers: int) -> Counter:
    client = pymongo.AsyncMongoClient(url, maxPoolSize=workers)
    collection = client["limits_test"]["jobs"]
    await collection.delete_many({})
    await collection.insert_many([{"n": n, "status": "pending"} for n in range(jobs)])

    async def worker(name: int) -> list[int]:
        taken = []
        while job := await collection.find_one_and_update(
            {"status": "pending"}, {"$set": {"status": "running", "worker": name}}, sort=[("n", 1)]
        ):
            taken.append(job["n"])
        return taken

    try:
        return Counter(n for taken in await asyncio.gather(*(worker(w) for w in range(workers))) for n in taken)
    finally:
        await client.close()


def test_find_one_and_update_is_not_atomic_so_two_workers_can_take_the_same_job(ferretdb, database):
    # FerretDB 1.x runs findAndModify as a query, then an update by _id that does not re-check the filter.
    # On MongoDB every job below is taken exactly once; here some are taken by several workers.
    duplicated = Counter()
    give_up_at = time.monotonic() + TRY_RACE_FOR_S
    while time.monotonic() < give_up_at:  # the race shows up in the first round in practice
        claims = asyncio.run(_claim_concurrently(ferretdb.url, jobs=20, workers=20))
        duplicated = Counter({n: count for n, count in claims.items() if count > 1})
        if duplicated:
            break
    print(f"jobs taken more than once: {dict(duplicated)}")
    assert duplicated, "every job was taken once: FerretDB may have made findAndModify atomic (update the notes)"


def test_a_conditional_update_one_is_not_atomic_either(ferretdb, database):
    # update_one({"_id": 1, "status": "pending"}, ...) by 20 workers at once: MongoDB modifies it once, in total.
    async def race() -> list[int]:
        client = pymongo.AsyncMongoClient(ferretdb.url, maxPoolSize=20, minPoolSize=20)
        jobs = client["limits_test"]["jobs"]
        await asyncio.gather(*(jobs.find_one({}) for _ in range(20)))  # 20 open connections, so the updates overlap

        async def claim(worker: int) -> int:
            done = await jobs.update_one({"_id": 1, "status": "pending"}, {"$set": {"status": "running", "w": worker}})
            return done.modified_count

        winners = []
        give_up_at = time.monotonic() + TRY_RACE_FOR_S
        try:
            while time.monotonic() < give_up_at:  # in practice the race shows within a few rounds
                await jobs.delete_many({})
                await jobs.insert_one({"_id": 1, "status": "pending"})
                winners.append(sum(await asyncio.gather(*(claim(worker) for worker in range(20)))))
                if winners[-1] > 1:
                    break
            return winners
        finally:
            await client.close()

    winners = asyncio.run(race())
    print(f"workers that 'won' the same job, per round: {winners}")
    assert max(winners) > 1, "one winner in every round: FerretDB may have made update_one atomic (update the notes)"


def test_an_insert_keyed_by_id_is_atomic_which_batch_job_claims_rely_on(ferretdb, database):
    async def race() -> list[bool]:
        client = pymongo.AsyncMongoClient(ferretdb.url, maxPoolSize=40)
        claims = client["limits_test"]["claims"]

        async def claim(worker: int) -> bool:
            try:
                await claims.insert_one({"_id": "job-1", "worker": worker})
                return True
            except pymongo.errors.DuplicateKeyError:
                return False

        try:
            return await asyncio.gather(*(claim(worker) for worker in range(40)))
        finally:
            await client.close()

    for _round in range(10):
        database.claims.delete_many({})
        assert sum(asyncio.run(race())) == 1


def test_end_sessions_is_not_a_command_which_is_harmless(database):
    # PyMongo sends endSessions when a client closes; FerretDB 1.x answers CommandNotFound and the driver ignores it.
    with pytest.raises(OperationFailure) as failure:
        database.client.admin.command("endSessions", [])
    assert failure.value.code == 59  # CommandNotFound
