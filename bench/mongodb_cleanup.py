"""MongoDB figures: the embedded FerretDB's cold start and the per-test cost of keeping the test database clean.

    uv run python bench/mongodb_cleanup.py [--starts 5] [--tests 60]

Compares what ``setup_database`` does between tests (empty every collection with ``delete_many`` and re-run
``init_beanie``, whose indexes are still there) with dropping the database (``init_beanie`` then recreates the
collections' indexes), plus the other per-test pieces: a new client, ``init_beanie`` alone, emptying an already
empty database, the check before each test that no collection holds a document (looking first with one
``find_one`` per collection, or deleting without looking, as the janitor does), over the janitor's synchronous
client, and binding the classes again (:func:`.binding.bind`) against ``init_beanie``. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import ProvisionContext


def _settings() -> cfg.Settings:
    return cfg.resolve({}, {}, {"services_log_dir": "reports/services"}, Path("."))


def cold_starts(count: int) -> list[float]:
    from narrative_fixtures.services.mongodb import PROVIDER

    starts = []
    for _ in range(count):
        endpoint, server = PROVIDER.start_embedded(ProvisionContext(_settings(), "bench"))
        starts.append(endpoint.started_in)
        server.stop()
    return starts


async def per_test_costs(url: str, tests: int) -> dict[str, list[float]]:
    from beanie import init_beanie
    from pymongo import AsyncMongoClient, MongoClient

    from narrative_fixtures.services.mongodb.binding import bind
    from narrative_fixtures.services.mongodb.janitor import (
        _delete_every_document, _index_information, built_indexes, empty_database_now, make_clean_now,
        make_empty_now,
    )

    from narrative_fixtures.models import DEFAULT_MODELS, BatchJob, TrainedModel, UserData
    from narrative_fixtures.services.mongodb import empty_database, make_empty, sample_user_data

    client = AsyncMongoClient(url, tz_aware=True)
    database = client["bench_test"]
    models = list(DEFAULT_MODELS)
    await init_beanie(database=database, document_models=models)
    janitor = MongoClient(url, tz_aware=True)["bench_test"]

    async def synchronous(work) -> None:
        work(janitor)

    built = built_indexes(janitor, sorted({model.get_collection_name() for model in models}))

    def through_the_helpers(database) -> None:  # make_clean_now's commands, sent by delete_many, index_information
        for name in database.list_collection_names():
            database[name].delete_many({})
            database[name].index_information()

    def by_its_own_commands(database) -> None:  # the same commands, as the janitor sends them
        for name in database.list_collection_names():
            _delete_every_document(database, name)
            _index_information(database, name)

    async def a_test_stores_one_of_each() -> None:
        dataset = UserData(**sample_user_data())
        await dataset.insert()
        await TrainedModel(user_id="u", name="m", model_type="rf", target_column="c", dataset=dataset).insert()
        await BatchJob(job_type="training", user_id="u").insert()

    async def empty_and_init() -> None:
        await empty_database(database)
        await init_beanie(database=database, document_models=models)

    async def empty_and_init_skip() -> None:
        await empty_database(database)
        await init_beanie(database=database, document_models=models, skip_indexes=True)

    async def empty_and_bind() -> None:  # bind's own state: the classes as its last init_beanie left them
        await empty_database(database)
        await bind(database, models, url)

    async def drop_and_init() -> None:
        await client.drop_database(database.name)
        await init_beanie(database=database, document_models=models)

    async def new_client() -> None:
        other = AsyncMongoClient(url, tz_aware=True)
        await other.admin.command("ping")
        await other.close()

    variants = {
        "delete_many every collection + init_beanie": (empty_and_init, True),
        "drop_database + init_beanie": (drop_and_init, True),
        "delete_many on an already empty database": (lambda: empty_database(database), False),
        "make_empty (find_one each) on an empty database": (lambda: make_empty(database), False),
        "sync: find_one each, delete where found (empty db)": (lambda: synchronous(make_empty_now), False),
        "sync: delete each without looking (empty db, used)": (lambda: synchronous(empty_database_now), False),
        "sync: delete + listIndexes each, by the helpers": (lambda: synchronous(through_the_helpers), False),
        "sync: delete + listIndexes each, by Database.command (used)": (lambda: synchronous(by_its_own_commands), False),
        "sync: make_clean_now (those commands, the indexes compared)": (
            lambda: synchronous(lambda database: make_clean_now(database, built)), False),
        "init_beanie alone (indexes exist)": (lambda: init_beanie(database=database, document_models=models), False),
        "init_beanie skip_indexes=True alone": (
            lambda: init_beanie(database=database, document_models=models, skip_indexes=True), False
        ),
        "delete_many + init_beanie skip_indexes (indexes kept)": (empty_and_init_skip, True),
        "bind: only the binding after a first init_beanie (used)": (lambda: bind(database, models, url), False,
                                                                      empty_and_bind),
        "new AsyncMongoClient + ping + close": (new_client, False),
    }
    figures = {}
    for name, (variant, after_a_test, *reset) in variants.items():
        reset = reset[0] if reset else empty_and_init
        await reset()
        times = []
        for _ in range(tests):
            if after_a_test:
                await a_test_stores_one_of_each()
            began = time.perf_counter()
            await variant()
            times.append(time.perf_counter() - began)
            await reset()
        figures[name] = times
    await client.drop_database(database.name)
    await client.close()
    janitor.client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--tests", type=int, default=60)
    args = parser.parse_args()
    from narrative_fixtures.services.mongodb import PROVIDER

    starts = cold_starts(args.starts)
    print(f"FerretDB cold start, spawn -> answers ping ({args.starts} starts): median"
          f" {statistics.median(starts) * 1000:.1f} ms, max {max(starts) * 1000:.1f} ms")
    endpoint, server = PROVIDER.start_embedded(ProvisionContext(_settings(), "bench"))
    try:
        figures = asyncio.run(per_test_costs(endpoint.url, args.tests))
    finally:
        server.stop()
    print(f"per-test costs on {endpoint.summary()}, {args.tests} tests each:")
    for name, times in figures.items():
        ordered = sorted(times)
        print(f"  {name:66s} median {statistics.median(times) * 1000:6.2f} ms"
              f"   p90 {ordered[int(0.9 * len(ordered))] * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
