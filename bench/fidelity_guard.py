"""Fidelity and isolation figures: what the stand-in guards cost per command / request, as a share of the MongoDB
feature's time, and what ``setup_database``'s airtight isolation costs per test against trusting the previous test.

    uv run python bench/fidelity_guard.py [--commands 3000] [--tests 200] [--feature-runs 1]

1. MongoDB guard: the command listener's own time per command (started + succeeded, watched FerretDB; the
   commands of a MongoDB feature run), the same commands end to end through a watched and an unwatched client
   side by side, and ``pytest features/test_mongodb.py`` with ``TEST_MONGODB_FIDELITY`` warn and off (commands
   counted): the guard's share = commands x per-command cost / the feature's time.
2. Isolation: ``make_empty`` (one ``find_one`` per collection) + ``init_beanie`` vs ``init_beanie`` alone (the
   former "the previous test emptied it on exit" shortcut).
3. S3 guard: the ``before-send`` handler's own time per request (watched, unwatched) and ``put_object`` end to end
   through a client with and without the handler.
Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import ProvisionContext

ROOT = Path(__file__).resolve().parent.parent

# what a feature run sends (find, insert, update, aggregate with one accumulator, findAndModify by _id, delete)
COMMANDS = [
    ("find", {"find": "user_data", "filter": {"user_id": "u1"}, "limit": 1}),
    ("insert", {"insert": "batch_jobs", "documents": [{"job_type": "training", "status": "pending"}]}),
    ("update", {"update": "batch_jobs", "updates": [{"q": {"_id": 1}, "u": {"$set": {"status": "done"}}}]}),
    ("aggregate", {"aggregate": "user_data",
                   "pipeline": [{"$match": {}}, {"$group": {"_id": "$c", "n": {"$sum": 1}}}]}),
    ("findAndModify", {"findAndModify": "batch_jobs", "query": {"_id": 1}, "update": {"$set": {"a": 1}}}),
    ("delete", {"delete": "user_data", "deletes": [{"q": {}, "limit": 0}]}),
]

COUNTING_PLUGIN = '''
import json, os, time
from pymongo import monitoring

class Count(monitoring.CommandListener):
    commands = 0
    def started(self, event):
        Count.commands += 1
    def succeeded(self, event):
        pass
    def failed(self, event):
        pass

monitoring.register(Count())
_began = []

def pytest_sessionstart(session):
    _began.append(time.perf_counter())

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump({"seconds": time.perf_counter() - _began[0], "commands": Count.commands,
                   "exit": int(exitstatus)}, out)
'''


def _settings() -> cfg.Settings:
    return cfg.resolve({}, {}, {"services_log_dir": "reports/services"}, Path("."))


def _per_call(function, repeats: int) -> float:
    """Median seconds per call over 5 rounds of ``repeats`` calls."""
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(repeats):
            function()
        rounds.append((time.perf_counter() - began) / repeats)
    return statistics.median(rounds)


def _interleaved(variants: dict, repeats: int) -> dict[str, float]:
    """Median seconds per call of each variant, measured in alternation (a busy machine hits them alike)."""
    times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, function in variants.items():
            began = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in times.items()}


# --- 1. MongoDB ---------------------------------------------------------------------------------------------------

def mongodb_listener_cost(endpoint, commands: int) -> dict[str, float]:
    import pymongo.monitoring

    from narrative_fixtures.services.mongodb import fidelity

    listener = fidelity._make_listener(pymongo.monitoring)
    address = ("127.0.0.1", endpoint.port)
    fidelity.WATCH._watched[address] = ("warn", "FerretDB bench")  # as watch() does for the run's FerretDB
    events = [SimpleNamespace(connection_id=address, command_name=name, command=command, request_id=n)
              for n, (name, command) in enumerate(COMMANDS)]
    unwatched = [SimpleNamespace(**{**vars(event), "connection_id": ("127.0.0.1", 1)}) for event in events]

    def each(batch):
        def run():
            for event in batch:
                listener.started(event)
                listener.succeeded(event)
        return run

    figures = {"watched": _per_call(each(events), commands // len(events)) / len(events),
               "unwatched": _per_call(each(unwatched), commands // len(events)) / len(events)}
    fidelity.WATCH._watched.pop(address, None)
    fidelity.GUARD.take()
    return figures


def mongodb_end_to_end(endpoint, commands: int) -> dict[str, float]:
    import pymongo

    from narrative_fixtures.services.mongodb import fidelity

    off = pymongo.MongoClient(endpoint.url)  # made before the listener is registered: never watched
    fidelity._register_listener()
    for host in ("127.0.0.1", "localhost"):
        fidelity.WATCH._watched[(host, endpoint.port)] = ("warn", "FerretDB bench")
    on = pymongo.MongoClient(endpoint.url)
    collections = {name: client["bench_test"]["jobs"] for name, client in (("guard on", on), ("guard off", off))}
    collections["guard on"].insert_one({"_id": 0, "status": "pending"})
    figures = _interleaved({name: (lambda c=c: c.find_one({"_id": 0})) for name, c in collections.items()}, commands)
    on.drop_database("bench_test")
    on.close()
    off.close()
    fidelity.WATCH._watched.clear()
    fidelity.GUARD.take()
    return figures


def mongodb_feature(mode: str) -> dict:
    """``pytest features/test_mongodb.py`` with TEST_MONGODB_FIDELITY=mode: its seconds and commands sent."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_count.py").write_text(COUNTING_PLUGIN)
        out = Path(folder, "out.json")
        env = {**os.environ, "TEST_MONGODB_FIDELITY": mode, "BENCH_OUT": str(out),
               "PYTHONPATH": os.pathsep.join(filter(None, [folder, str(ROOT), os.environ.get("PYTHONPATH")]))}
        subprocess.run([sys.executable, "-m", "pytest", "features/test_mongodb.py", "-q", "-p", "no:randomly",
                        "-p", "bench_count", "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True,
                       timeout=900, check=False)
        return json.loads(out.read_text())


# --- 2. isolation ---------------------------------------------------------------------------------------------------

async def isolation_costs(url: str, tests: int) -> dict[str, float]:
    from beanie import init_beanie
    from pymongo import AsyncMongoClient

    from narrative_fixtures.models import DEFAULT_MODELS
    from narrative_fixtures.services.mongodb import make_empty

    client = AsyncMongoClient(url, tz_aware=True)
    database = client["bench_isolation_test"]
    models = list(DEFAULT_MODELS)
    await init_beanie(database=database, document_models=models)

    async def airtight():  # what setup_database does before every test now
        await make_empty(database)
        await init_beanie(database=database, document_models=models, skip_indexes=True)

    async def trusting():  # the former shortcut: the previous setup_database test emptied it on exit
        await database.list_collection_names()
        await init_beanie(database=database, document_models=models, skip_indexes=True)

    times = {"now (make_empty + init_beanie)": [], "trust the previous test": []}
    for _ in range(tests):
        for name, variant in zip(times, (airtight, trusting)):
            began = time.perf_counter()
            await variant()
            times[name].append(time.perf_counter() - began)
    await client.drop_database(database.name)
    await client.close()
    return {name: statistics.median(values) for name, values in times.items()}


# --- 3. S3 ----------------------------------------------------------------------------------------------------------

def s3_costs(requests: int) -> dict[str, float]:
    import boto3
    import botocore.handlers
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.config import Config

    from narrative_fixtures.services.s3 import fidelity
    from narrative_fixtures.services.s3.server import FAKE_CREDENTIALS, make_server

    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    def client():
        session = boto3.session.Session()
        return session.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=FAKE_CREDENTIALS[0],
                              aws_secret_access_key=FAKE_CREDENTIALS[1], config=Config(s3={"addressing_style": "path"}))

    off = client()
    fidelity._add_handler(botocore.handlers)
    on = client()
    fidelity.WATCH._watched[("127.0.0.1", server.server_port)] = ("warn", "moto bench")  # as watch() does
    request = AWSPreparedRequest("PUT", f"{url}/test-bench/key", {"x-amz-checksum-crc32": "AAAAAA=="}, b"x" * 1024,
                                 None)
    plain = AWSPreparedRequest("GET", f"{url}/test-bench/key", {}, b"", None)
    elsewhere = AWSPreparedRequest("PUT", "http://127.0.0.1:1/test-bench/key", {}, b"", None)
    figures = {
        "handler, watched PutObject (crc32 of 1 KiB checked)": _per_call(
            lambda: fidelity.before_send(request, "before-send.s3.PutObject"), requests),
        "handler, watched GetObject": _per_call(lambda: fidelity.before_send(plain, "before-send.s3.GetObject"),
                                                requests),
        "handler, unwatched server": _per_call(lambda: fidelity.before_send(elsewhere, "before-send.s3.PutObject"),
                                               requests),
    }
    fidelity.GUARD.take()
    off.create_bucket(Bucket="test-bench")
    end_to_end = _interleaved({
        "put_object 1 KiB, guard on": lambda: on.put_object(Bucket="test-bench", Key="k", Body=b"x" * 1024),
        "put_object 1 KiB, guard off": lambda: off.put_object(Bucket="test-bench", Key="k", Body=b"x" * 1024),
    }, max(100, requests // 20))
    fidelity.GUARD.take()
    fidelity._remove_handler()
    fidelity.WATCH._watched.clear()
    server.shutdown()
    return {**figures, **end_to_end}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--feature-runs", type=int, default=1)
    args = parser.parse_args()
    from narrative_fixtures.services.mongodb import PROVIDER

    endpoint, server = PROVIDER.start_embedded(ProvisionContext(_settings(), "bench"))
    try:
        listener = mongodb_listener_cost(endpoint, args.commands)
        end_to_end = mongodb_end_to_end(endpoint, args.commands)
        isolation = asyncio.run(isolation_costs(endpoint.url, args.tests))
    finally:
        server.stop()
    print(f"MongoDB guard on {endpoint.summary()}:")
    for name, seconds in listener.items():
        print(f"  listener per command, {name:10s} {seconds * 1e6:7.2f} us")
    for name, seconds in end_to_end.items():
        print(f"  find_one by _id end to end, {name:9s} {seconds * 1e3:7.3f} ms (median of {args.commands})")
    for _ in range(args.feature_runs):
        runs = {mode: mongodb_feature(mode) for mode in ("warn", "off")}
        for mode, run in runs.items():
            print(f"  features/test_mongodb.py, TEST_MONGODB_FIDELITY={mode:4s} {run['seconds']:6.2f} s,"
                  f" {run['commands']} commands (exit {run['exit']})")
        warn = runs["warn"]
        share = warn["commands"] * listener["watched"] / warn["seconds"]
        print(f"  guard's share of the feature: {warn['commands']} commands x {listener['watched'] * 1e6:.2f} us /"
              f" {warn['seconds']:.2f} s = {share * 100:.3f} % (target <= 2 %)")
    print(f"setup_database isolation, per test ({args.tests} tests, median):")
    for name, seconds in isolation.items():
        print(f"  {name:32s} {seconds * 1e3:7.2f} ms")
    print("S3 guard:")
    for name, seconds in s3_costs(args.commands).items():
        unit, scale = ("ms", 1e3) if "put_object" in name else ("us", 1e6)
        print(f"  {name:52s} {seconds * scale:7.2f} {unit}")


if __name__ == "__main__":
    main()
