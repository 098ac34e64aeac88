"""The janitor's rules called directly on the run's server (in-process, each test on a database of its own, dropped
after): the claim on an external database (taken, kept, refused, taken over, released), the foreign documents that
forbid it, the emptying that keeps collections and the claim. The nested runs of test_mongodb_safety.py show the
same rules as users meet them; the mutation run cannot see into those (docs/mutation.md)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pymongo
import pytest

from narrative_fixtures.errors import UnsafeTarget
from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint
from narrative_fixtures.services.mongodb import janitor
from narrative_fixtures.services.mongodb.janitor import (
    CLAIM_COLLECTION, CLAIM_ID, _is_ours_to_empty, claim_database, empty_database, empty_database_now, make_empty,
    make_empty_now, release_claim,
)

RUN = "run-of-this-test"
OTHER_RUN = "another-run"


@pytest.fixture
def target(mongodb_service):
    """A sync client and an 'external' endpoint (the run's server, so nothing of anyone else's is touched) whose test
    database is fresh; the database is dropped after the test."""
    name = f"janitor_{uuid.uuid4().hex[:10]}_test"
    client = pymongo.MongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000)
    endpoint = MongoDBEndpoint("mongodb", "external", mongodb_service.url, backend=mongodb_service.backend,
                               version=mongodb_service.version, host=mongodb_service.host,
                               port=mongodb_service.port, database=name, database_source="TEST_MONGODB_DB",
                               loopback=True)
    yield client, endpoint
    client.drop_database(name)
    client.close()


def claim_of(client, database: str) -> dict | None:
    return client[database][CLAIM_COLLECTION].find_one({"_id": CLAIM_ID})


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def plant_claim(client, database: str, run: str, **owner) -> None:
    import socket

    record = {"_id": CLAIM_ID, "run": run, "pid": 1, "host": socket.gethostname(), "since": "2026-01-01T00:00:00Z"}
    client[database][CLAIM_COLLECTION].insert_one({**record, **owner})


def test_an_empty_database_is_claimed_for_the_run_with_its_owner(target):
    import os
    import socket

    client, endpoint = target
    claim_database(client, endpoint, RUN)
    claim = claim_of(client, endpoint.database)
    assert (claim["run"], claim["pid"], claim["host"]) == (RUN, os.getpid(), socket.gethostname())
    claim_database(client, endpoint, RUN)  # the same run again: kept as it is
    assert claim_of(client, endpoint.database) == claim


def test_a_database_named_by_the_caller_is_the_one_claimed(target):
    client, endpoint = target
    second = endpoint.database.replace("_test", "_other_test")
    try:
        claim_database(client, endpoint, RUN, database=second, source="database_factory('x')")
        assert claim_of(client, second)["run"] == RUN
        assert claim_of(client, endpoint.database) is None
        release_claim(client, endpoint, RUN, second)
        assert claim_of(client, second) is None
    finally:
        client.drop_database(second)


def test_documents_the_run_did_not_write_forbid_the_claim_and_nothing_is_written(target):
    client, endpoint = target
    database = client[endpoint.database]
    database.orders.insert_many([{"n": n} for n in range(3)])
    database.jobs.insert_one({"n": 1})
    database.create_collection("empty_one")
    with pytest.raises(UnsafeTarget) as refused:
        claim_database(client, endpoint, RUN, source="TEST_MONGODB_URI")
    message = str(refused.value)
    assert f"database {endpoint.database!r}" in message
    assert "holds documents this run did not write (jobs: 1, orders: 3);" in message
    assert "set TEST_MONGODB_URI to another test database, or TEST_MONGODB_ALLOW_UNSAFE=1" in message
    assert claim_of(client, endpoint.database) is None
    assert database.orders.count_documents({}) == 3


def test_the_claim_collection_is_not_foreign_documents(target):
    client, endpoint = target
    client[endpoint.database][CLAIM_COLLECTION].insert_one({"_id": "left by a tool", "note": 1})
    claim_database(client, endpoint, RUN)  # no claim in it, nothing outside it: claimed
    assert claim_of(client, endpoint.database)["run"] == RUN


def test_allow_unsafe_claims_a_database_holding_documents(target):
    client, endpoint = target
    client[endpoint.database].orders.insert_one({"keep": True})
    claim_database(client, endpoint, RUN, allow_unsafe=True)
    assert claim_of(client, endpoint.database)["run"] == RUN
    assert client[endpoint.database].orders.count_documents({}) == 1


@pytest.mark.parametrize("allow_unsafe", [False, True])
def test_a_live_runs_claim_is_refused_even_when_unsafe_is_allowed(target, allow_unsafe):
    import os

    client, endpoint = target
    plant_claim(client, endpoint.database, OTHER_RUN, pid=os.getpid())
    with pytest.raises(UnsafeTarget) as refused:
        claim_database(client, endpoint, RUN, allow_unsafe=allow_unsafe, source="TEST_MONGODB_DB")
    message = str(refused.value)
    assert f"it is claimed by run {OTHER_RUN} (pid {os.getpid()}" in message
    assert "that is still running. Two runs never share a test database: set TEST_MONGODB_DB" in message
    assert "TEST_MONGODB_ALLOW_UNSAFE" not in message  # no opt-out takes a live run's claim
    assert claim_of(client, endpoint.database)["run"] == OTHER_RUN


def test_a_dead_runs_claim_is_taken_over(target):
    client, endpoint = target
    plant_claim(client, endpoint.database, OTHER_RUN, pid=dead_pid())
    claim_database(client, endpoint, RUN)
    claims = list(client[endpoint.database][CLAIM_COLLECTION].find())
    assert [claim["run"] for claim in claims] == [RUN]


def test_a_claim_from_another_host_is_refused_unless_unsafe_is_allowed(target):
    client, endpoint = target
    plant_claim(client, endpoint.database, OTHER_RUN, host="elsewhere.example")
    with pytest.raises(UnsafeTarget) as refused:
        claim_database(client, endpoint, RUN)
    message = str(refused.value)
    assert message.endswith(
        ", which may still be running on another host. Two runs never share a test database: set TEST_MONGODB_DB to"
        " another test database, or TEST_MONGODB_ALLOW_UNSAFE=1 to take the claim over if that run is gone")
    assert claim_of(client, endpoint.database)["run"] == OTHER_RUN
    claim_database(client, endpoint, RUN, allow_unsafe=True)
    assert claim_of(client, endpoint.database)["run"] == RUN


def test_release_removes_the_runs_own_claim_only(target):
    client, endpoint = target
    plant_claim(client, endpoint.database, OTHER_RUN)
    release_claim(client, endpoint, RUN)
    assert claim_of(client, endpoint.database)["run"] == OTHER_RUN
    client[endpoint.database][CLAIM_COLLECTION].delete_many({})
    claim_database(client, endpoint, RUN)
    release_claim(client, endpoint, RUN)
    assert claim_of(client, endpoint.database) is None
    assert CLAIM_COLLECTION in client[endpoint.database].list_collection_names()


def _fill(client, endpoint) -> None:
    database = client[endpoint.database]
    database.orders.insert_many([{"n": n} for n in range(4)])
    database.jobs.insert_one({"n": 1})
    database.create_collection("empty_one")
    claim_database(client, endpoint, RUN, allow_unsafe=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("emptying", [empty_database, make_empty], ids=["empty_database", "make_empty"])
async def test_emptying_keeps_the_collections_and_the_claim(target, mongodb_service, emptying):
    client, endpoint = target
    _fill(client, endpoint)
    async_client = pymongo.AsyncMongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000)
    try:
        names = await emptying(async_client[endpoint.database])
    finally:
        await async_client.close()
    assert sorted(names) == sorted([CLAIM_COLLECTION, "empty_one", "jobs", "orders"])
    database = client[endpoint.database]
    assert {name: database[name].count_documents({}) for name in ("orders", "jobs", "empty_one")} == {
        "orders": 0, "jobs": 0, "empty_one": 0}
    assert claim_of(client, endpoint.database)["run"] == RUN


@pytest.mark.parametrize("emptying", [empty_database_now, make_empty_now], ids=["empty_database_now", "make_empty_now"])
def test_emptying_over_a_sync_client_keeps_the_collections_and_the_claim(target, emptying):
    client, endpoint = target
    _fill(client, endpoint)
    names = emptying(client[endpoint.database])
    assert sorted(names) == sorted([CLAIM_COLLECTION, "empty_one", "jobs", "orders"])
    database = client[endpoint.database]
    assert {name: database[name].count_documents({}) for name in ("orders", "jobs", "empty_one")} == {
        "orders": 0, "jobs": 0, "empty_one": 0}
    assert claim_of(client, endpoint.database)["run"] == RUN


def test_a_server_narrative_services_up_started_is_the_plugins_own_to_empty(target, monkeypatch):
    client, endpoint = target
    monkeypatch.setattr(janitor, "owned_server", lambda url: url == endpoint.url)  # up's record names this server
    client[endpoint.database].orders.insert_one({"from": "an earlier run on up's server"})
    claim_database(client, endpoint, RUN)
    assert claim_of(client, endpoint.database)["run"] == RUN


def test_the_claim_and_the_servers_own_collections_are_never_emptied_or_foreign():
    assert [_is_ours_to_empty(name) for name in (CLAIM_COLLECTION, "system.views", "system.profile")] == [False] * 3
    assert [_is_ours_to_empty(name) for name in ("orders", "systems", "my.system.log", "user_data")] == [True] * 4


# --- two runs claiming at the same moment: the unique _id decides, the loser is refused ------------------------


class Racing:
    """The claim collection as a run sees it while another run claims the same database: ``rival`` (its record,
    or None when it is gone again by the time the loser looks) is inserted just after the run finds no claim
    (or just after it removed a dead run's claim)."""

    def __init__(self, claims, rival: dict | None) -> None:
        self._claims, self._rival, self._done = claims, rival, False

    def _race(self) -> None:
        if not self._done:
            self._done = True
            self._claims.insert_one(self._rival or {"_id": CLAIM_ID, "run": "a run that is gone again"})

    def find_one(self, query, *args):
        found = self._claims.find_one(query, *args)
        if found is None and not self._done:
            self._race()
            return None
        if self._rival is None and self._done:
            self._claims.delete_many({})  # the winner's claim vanished before the loser could read it
            return None
        return found

    def delete_one(self, query):
        result = self._claims.delete_one(query)
        self._race()
        return result

    def insert_one(self, document):
        return self._claims.insert_one(document)


class RacingClient:
    def __init__(self, client, rival: dict | None) -> None:
        self._client, self._rival = client, rival

    def __getitem__(self, name):
        database = self._client[name]
        rival = self._rival

        class Database:
            def __getitem__(self, collection):
                if collection == CLAIM_COLLECTION:
                    return Racing(database[collection], rival)
                return database[collection]

            def list_collection_names(self):
                return database.list_collection_names()

        return Database()


def rival_record(**owner) -> dict:
    import os
    import socket

    return {"_id": CLAIM_ID, "run": OTHER_RUN, "pid": os.getpid(), "host": socket.gethostname(),
            "since": "2026-01-01T00:00:00Z", **owner}


@pytest.mark.parametrize("allow_unsafe", [False, True])
def test_a_run_that_claims_a_moment_earlier_wins_even_from_another_host(target, allow_unsafe):
    client, endpoint = target
    client[endpoint.database][CLAIM_COLLECTION].insert_one({"_id": "left by a tool"})  # not the claim: never read
    rival = rival_record(host="elsewhere.example")
    with pytest.raises(UnsafeTarget) as refused:
        claim_database(RacingClient(client, rival), endpoint, RUN, allow_unsafe=allow_unsafe)
    message = str(refused.value)
    assert message.startswith(f"refusing to use MongoDB database {endpoint.database!r} at {endpoint.masked_url}: it"
                              f" is claimed by run {OTHER_RUN} (pid {rival['pid']} on elsewhere.example")
    assert claim_of(client, endpoint.database)["run"] == OTHER_RUN


def test_a_live_run_that_takes_a_dead_runs_claim_a_moment_earlier_wins(target):
    client, endpoint = target
    plant_claim(client, endpoint.database, "a-dead-run", pid=dead_pid())
    with pytest.raises(UnsafeTarget, match=f"it is claimed by run {OTHER_RUN} .* that is still running"):
        claim_database(RacingClient(client, rival_record()), endpoint, RUN)
    assert claim_of(client, endpoint.database)["run"] == OTHER_RUN


def test_a_winner_whose_claim_cannot_be_read_is_taken_for_a_live_run(target):
    client, endpoint = target
    with pytest.raises(UnsafeTarget, match="it is claimed by an unknown run that is still running"):
        claim_database(RacingClient(client, None), endpoint, RUN)
