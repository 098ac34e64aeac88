"""The janitor of an external Redis database, in-process: its claim, its refusals and its flushes.

The nested-run tests (test_redis_safety.py) prove the same rules end to end; these pin each message and count so
the mutation run (docs/mutation.md), which leaves nested runs out, can tell a broken janitor apart.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from narrative_fixtures.errors import UnsafeTarget
from narrative_fixtures.services.redis.janitor import (
    CLAIM_PREFIX, Janitors, RedisJanitor, claim_name, claim_owner, clean, guarded
)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """The URL (without database) of a redis-server of this module's own, standing in for an external one."""
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path_factory.mktemp("logs"))}, Path("/"))
    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint.url.rsplit("/", 1)[0]
    process.stop()


@pytest.fixture
def database(server_url):
    """(url, db, admin client) of an emptied database of that server; the admin's own connection is named ours."""
    db = 7
    url = f"{server_url}/{db}"
    admin = redis.Redis.from_url(url, decode_responses=True, client_name=claim_name("admin"))
    admin.flushdb()
    yield url, db, admin
    admin.flushdb()
    admin.close()


def test_a_claim_is_named_for_the_run_process_and_host():
    name = claim_name("run1", 42)
    assert name.startswith(f"{CLAIM_PREFIX}run1:42:") and " " not in name
    assert claim_name("run1").split(":")[2] == str(os.getpid())
    owner = claim_owner(name, 0)
    assert owner["run"] == "run1" and owner["pid"] == "42" and owner["host"] == name.split(":", 3)[3]
    assert owner["since"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time()))
    assert claim_owner("someone-else", 5) is None


def test_a_claim_held_by_another_run_is_refused_naming_it(database):
    url, db, _ = database
    other = redis.Redis.from_url(url, client_name=f"{CLAIM_PREFIX}otherrun:99999:elsewhere")
    other.ping()
    try:
        with pytest.raises(UnsafeTarget) as refused:
            RedisJanitor(url, "ourrun", db, allow_flush=False).claim()
        message = str(refused.value)
        assert f"redis db {db} at TEST_REDIS_URL=redis://:***@" in message
        assert "is in use by run otherrun (pid 99999 on elsewhere, since" in message
        assert message.endswith("dedicated to one run; point TEST_REDIS_URL at another database")
    finally:
        other.close()


def test_keys_the_run_did_not_create_are_never_flushed(database):
    url, db, admin = database
    admin.set("theirs", "1")
    admin.set("theirs-too", "2")
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False, setting="MY_REDIS").claim()
    try:
        with pytest.raises(UnsafeTarget) as refused:
            janitor.before_test()
        assert str(refused.value) == (
            f"redis db {db} at MY_REDIS={janitor.where.split('=', 1)[1]} holds 2 keys this run did not create;"
            " refusing to flush it. Point MY_REDIS at an empty database or set TEST_REDIS_ALLOW_FLUSH=1"
        )
        assert admin.dbsize() == 2
    finally:
        janitor.release()
    janitor.release()  # idempotent


def test_allow_flush_empties_a_database_holding_keys(database):
    url, db, admin = database
    admin.set("left-over", "1")
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=True).claim()
    try:
        janitor.before_test()
        assert admin.dbsize() == 0 and janitor.stopped is None
    finally:
        janitor.release()


def test_the_run_own_keys_are_flushed_after_each_test(database):
    url, db, admin = database
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False).claim()
    try:
        janitor.before_test()
        admin.set("written-by-the-test", "1")
        janitor.after_test()
        assert admin.dbsize() == 0 and janitor.stopped is None
    finally:
        janitor.release()


STRANGER = """
import os, sys, time, redis
if os.fork():
    os._exit(0)  # the parent exits: the connection below belongs to no process of the test run
client = redis.Redis.from_url(sys.argv[1], client_name="stranger")
client.set("stranger-key", "1")
open(sys.argv[2], "w").write("ready")
time.sleep(30)
"""


def test_a_client_outside_the_run_stops_the_flush_and_its_keys_stay(database, tmp_path):
    url, db, admin = database
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False).claim()
    ready, stranger = tmp_path / "ready", None
    subprocess.run([sys.executable, "-c", STRANGER, url, str(ready)], check=True, timeout=30)
    try:
        for _ in range(300):
            if ready.exists():
                break
            time.sleep(0.05)
        stranger = next(c for c in admin.client_list() if c.get("name") == "stranger")
        with pytest.raises(UnsafeTarget) as refused:
            janitor.after_test()
        message = str(refused.value)
        assert f"a client this run does not own is connected to it (addr {stranger['addr']}, name 'stranger'" in message
        assert message.endswith("; not flushed: this test's keys are left in place")
        assert janitor.stopped == "the flush after an earlier test was stopped" and admin.get("stranger-key") == "1"
        with pytest.raises(UnsafeTarget, match=r"\(left when the flush after an earlier test was stopped\)"):
            janitor.before_test()
    finally:
        if stranger is not None:
            admin.client_kill_filter(_id=stranger["id"])
        janitor.release()


def test_the_run_claims_each_database_once_and_releases_them_all(database):
    url, db, admin = database
    janitors = Janitors("ourrun")
    first = janitors.of(url, db, allow_flush=False)
    assert janitors.of(url, db, allow_flush=False) is first
    names = [c.get("name") for c in admin.client_list()]
    assert names.count(claim_name("ourrun")) == 1
    janitors.release()
    time.sleep(0.05)
    assert claim_name("ourrun") not in [c.get("name") for c in admin.client_list()]


def test_a_redis_error_in_a_janitor_step_is_one_refusal_naming_the_database(database):
    url, db, _ = database
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False)

    def broken():
        raise redis.ConnectionError("Connection refused")

    problem = guarded(janitor, broken)
    assert str(problem) == f"{janitor.where}: ConnectionError: Connection refused"
    assert guarded(janitor, lambda: None) is None


def test_the_run_own_server_is_flushed_without_a_janitor():
    class Client:
        flushed = 0

        async def flushdb(self):
            self.flushed += 1

    client = Client()
    asyncio.run(clean(client, None, before=True))
    assert client.flushed == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1:5555", ("127.0.0.1", 5555)),
        ("[::1]:6379", ("::1", 6379)),
        ("::ffff:127.0.0.1:5555", ("127.0.0.1", 5555)),
        ("10.0.0.2:", ("10.0.0.2", -1)),
        ("not-an-address:1", None),
        ("", None),
    ],
)
def test_client_addresses_are_compared_normalised(text, expected):
    from narrative_fixtures.services.redis.janitor import _address

    assert _address(text) == expected


def test_the_run_sees_its_own_connections_and_those_of_its_children(database):
    from narrative_fixtures.services.redis.janitor import _local_sockets

    url, _, admin = database
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    mine = [local for local, remote in _local_sockets(False) if remote and remote[1] == port]
    assert mine, "the admin client's connection is one of this process's sockets"
    holder = f"import socket, time; s = socket.create_connection(('127.0.0.1', {port})); time.sleep(20)"
    child = subprocess.Popen([sys.executable, "-c", holder])
    try:
        for _ in range(200):
            with_children = [local for local, remote in _local_sockets(True) if remote and remote[1] == port]
            if len(with_children) > len(mine):
                break
            time.sleep(0.05)
        assert len(with_children) > len(mine)
    finally:
        child.kill()
        child.wait()


LISTENER = """
import os, sys, time, redis
if os.fork():
    os._exit(0)  # owned by no process of the test run
client = redis.Redis.from_url(sys.argv[1], client_name="listener")
if sys.argv[3] == "subscriber":
    pubsub = client.pubsub()
    pubsub.subscribe("job_updates")
    pubsub.get_message(timeout=1)
else:
    client.ping()
open(sys.argv[2], "w").write("ready")
time.sleep(30)
"""


@pytest.mark.parametrize("kind, db_offset", [("subscriber", 0), ("client of another database", 1)])
def test_a_stranger_that_cannot_write_into_the_database_does_not_stop_the_flush(database, tmp_path, kind, db_offset):
    url, db, admin = database
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False).claim()
    ready, listener = tmp_path / "ready", None
    their_url = url.rsplit("/", 1)[0] + f"/{db + db_offset}"
    subprocess.run([sys.executable, "-c", LISTENER, their_url, str(ready), kind.split()[0]], check=True, timeout=30)
    try:
        for _ in range(300):
            if ready.exists():
                break
            time.sleep(0.05)
        listener = next(c for c in admin.client_list() if c.get("name") == "listener")
        admin.set("written-by-the-test", "1")
        janitor.after_test()
        assert admin.dbsize() == 0, f"a {kind} writes no keys here: the run's keys are flushed"
    finally:
        if listener is not None:
            admin.client_kill_filter(_id=listener["id"])
        janitor.release()


def test_the_run_claims_with_the_database_the_flag_and_the_setting_it_was_given(database):
    url, db, _ = database
    janitors = Janitors("ourrun")
    try:
        janitor = janitors.of(url, db, allow_flush=False, setting="MY_REDIS")
        assert (janitor.db, janitor.allow_flush, janitor.setting, janitor.run_id) == (db, False, "MY_REDIS", "ourrun")
    finally:
        janitors.release()
    flushing = Janitors("ourrun")
    try:
        assert flushing.of(url, db, allow_flush=True).allow_flush is True
    finally:
        flushing.release()


def test_keys_written_while_the_run_checked_who_uses_the_database_stop_the_flush(database):
    url, db, admin = database
    janitor = RedisJanitor(url, "ourrun", db, allow_flush=False).claim()
    try:
        admin.set("written-by-the-test", "1")
        janitor._client.eval = lambda *args: 0  # the database changed between the count and the flush
        with pytest.raises(UnsafeTarget) as stopped:
            janitor.after_test()
        assert str(stopped.value) == (
            f"{janitor.where}: not flushed: keys were written into it while the run checked who uses it;"
            " this test's keys are left in place. An external test database must be dedicated to one run"
        )
        assert janitor.stopped == "the flush after an earlier test was stopped" and admin.dbsize() == 1
    finally:
        janitor.release()
