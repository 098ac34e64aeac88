"""MongoDB data safety with sentinels: foreign documents are written first, a run is made, then exactly what
survived is counted. Covers the word rule for database names, the database named in the URI, the claim a run
holds on an external test database (foreign documents, a second live run, a dead run's claim), isolation between
tests whoever wrote the data, FerretDB's credentials message and the provider's health check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pymongo
import pytest

from narrative_fixtures.core.run import owner_record
from tests.conftest import before_short_summary
from tests.mongodb_support import own_ferretdb, point_nested_runs_at

SENTINELS = 20

TEN_MONGODB_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(10))
async def test_uses_mongodb(setup_database, n):
    await setup_database["scratch"].insert_one({"n": n})
"""


@pytest.fixture
def external(project, ferretdb):
    """A nested project pointed at the module's FerretDB; yields a sync client to plant and count sentinels."""
    point_nested_runs_at(project, ferretdb.url)
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    for name in client.list_database_names():
        client.drop_database(name)
    yield client
    client.close()


def plant(collection) -> None:
    collection.insert_many([{"sentinel": n} for n in range(SENTINELS)])


def one_line_errors(result, expected: str) -> None:
    """Every test errored with the same one-line message, once, never a traceback or a chained exception."""
    result.stdout.fnmatch_lines([f"*{expected}*"])
    from fnmatch import fnmatch

    shown = before_short_summary(result.stdout.lines)
    assert len([line for line in shown if fnmatch(line, f"*{expected}*")]) == 10, result.stdout.str()
    output = result.stdout.str()
    assert "During handling of the above exception" not in output
    assert "Traceback" not in output


# --- case 2: the word rule -----------------------------------------------------------------------------------------


def test_the_name_rule_is_a_word_rule():
    from narrative_fixtures.services.mongodb import is_test_database_name

    accepted = ["test", "test_orders", "orders_test", "narrative_test", "narrative_test_gw0", "narrative-tests",
                "Test_DB", "isolation_narrative_test_gw12"]
    refused = ["latest_orders", "contest", "attest_gw0", "testing", "orders_testdata", "prod", "protest_gw1",
               "my_test_orders"]
    assert [name for name in accepted if not is_test_database_name(name)] == []
    assert [name for name in refused if is_test_database_name(name)] == []


def test_a_name_that_merely_contains_test_is_never_cleaned(project, external):
    plant(external.latest_orders.orders)
    project.makepyfile(TEN_MONGODB_TESTS)
    project._monkeypatch.setenv("TEST_MONGODB_DB", "latest_orders")
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    one_line_errors(result, "refusing to clean MongoDB database 'latest_orders' at mongodb://127.0.0.1:*: its name"
                            " (TEST_MONGODB_DB) does not contain 'test' as its first or last word (test_x, x_test)")
    assert external.latest_orders.orders.count_documents({}) == SENTINELS
    assert external.latest_orders.list_collection_names() == ["orders"], "nothing was written either"


# --- case 3: collections the run did not create --------------------------------------------------------------------


def test_a_test_database_holding_documents_the_run_did_not_write_is_never_emptied(project, external):
    plant(external.narrative_test.sentinel_docs)
    project.makepyfile(TEN_MONGODB_TESTS)
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    one_line_errors(result, "refusing to clean MongoDB database 'narrative_test' at mongodb://127.0.0.1:*: it holds"
                            " documents this run did not write (sentinel_docs: 20)")
    assert external.narrative_test.sentinel_docs.count_documents({}) == SENTINELS
    assert external.narrative_test.list_collection_names() == ["sentinel_docs"], "no claim, no index, no scratch"

    project._monkeypatch.setenv("TEST_MONGODB_ALLOW_UNSAFE", "1")
    project.runpytest_inprocess().assert_outcomes(passed=10)
    assert external.narrative_test.sentinel_docs.count_documents({}) == 0, "with the opt-in it is cleaned as asked"


def test_empty_collections_left_by_an_earlier_run_are_no_obstacle(project, external):
    external.narrative_test.create_collection("user_data")  # what a finished run leaves: emptied collections
    project.makepyfile(TEN_MONGODB_TESTS)
    project.runpytest_inprocess().assert_outcomes(passed=10)
    counts = {name: external.narrative_test[name].count_documents({})
              for name in external.narrative_test.list_collection_names()}
    assert counts["scratch"] == 0 and counts["user_data"] == 0
    assert counts.get("narrative_fixtures_claim", 0) == 0, "the claim is released at the end of the run"


# --- case 4: the database in the URI -------------------------------------------------------------------------------


def test_the_database_named_in_the_uri_is_the_one_used(project, external, ferretdb):
    plant(external.narrative_prod.orders)
    plant(external.narrative_test.sentinel_docs)
    project.makepyfile(TEN_MONGODB_TESTS)
    project._monkeypatch.setenv("TEST_MONGODB_URI", f"{ferretdb.url}narrative_prod")
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    one_line_errors(result, "refusing to clean MongoDB database 'narrative_prod' at mongodb://127.0.0.1:*/narrative_prod:"
                            " its name (TEST_MONGODB_URI) does not contain 'test' as its first or last word")
    assert external.narrative_prod.orders.count_documents({}) == SENTINELS
    assert external.narrative_test.sentinel_docs.count_documents({}) == SENTINELS

    project._monkeypatch.setenv("TEST_MONGODB_URI", f"{ferretdb.url}orders_test")
    project.makepyfile(TEN_MONGODB_TESTS.replace("await setup_database", "assert setup_database.name == 'orders_test'\n"
                                                 "    await setup_database"))
    project.runpytest_inprocess().assert_outcomes(passed=10)
    assert external.narrative_test.sentinel_docs.count_documents({}) == SENTINELS


def test_a_uri_database_and_a_different_test_mongodb_db_fail_in_one_line(project, external, ferretdb):
    project.makepyfile(TEN_MONGODB_TESTS)
    project._monkeypatch.setenv("TEST_MONGODB_URI", ferretdb.url.replace("mongodb://", "mongodb://u:Pa55word@") + "a_test")
    project._monkeypatch.setenv("TEST_MONGODB_DB", "b_test")
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    one_line_errors(result, "TEST_MONGODB_URI=mongodb://u:***@127.0.0.1:*/a_test names the database 'a_test' but"
                            " TEST_MONGODB_DB='b_test'; set only one of them, or the same name in both")
    assert "Pa55word" not in result.stdout.str()


# --- case 6: two runs, one external database -----------------------------------------------------------------------

SLOW_RUN = """
import os, time, pytest

@pytest.mark.asyncio
async def test_run_a_keeps_its_documents(setup_database):
    await setup_database["a_docs"].insert_many([{{"n": n}} for n in range({count})])
    open({ready!r}, "w").close()
    for _ in range(600):
        if os.path.exists({go!r}):
            break
        time.sleep(0.1)
    assert await setup_database["a_docs"].count_documents({{}}) == {count}
"""


def test_two_runs_on_one_external_database_never_touch_each_others_data(project, external):
    ready, go = project.path / "a-ready", project.path / "a-go"
    project.makepyfile(test_a=SLOW_RUN.format(count=SENTINELS, ready=str(ready), go=str(go)))
    run_a = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "test_a.py"],
        cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for _ in range(600):
            if ready.exists() or run_a.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), run_a.communicate()[0] if run_a.poll() is not None else "run A never got ready"
        (project.path / "test_a.py").unlink()
        project.makepyfile(test_b=TEN_MONGODB_TESTS)
        result = project.runpytest_inprocess("test_b.py")
        result.assert_outcomes(errors=10)
        one_line_errors(result, f"refusing to use MongoDB database 'narrative_test' at mongodb://127.0.0.1:*: it is"
                                f" claimed by run * (pid {run_a.pid} on *) that is still running")
        assert external.narrative_test.a_docs.count_documents({}) == SENTINELS
        assert external.narrative_test.scratch.count_documents({}) == 0
    finally:
        go.touch()
        output = run_a.communicate(timeout=120)[0]
    assert run_a.returncode == 0, output
    project.runpytest_inprocess("test_b.py").assert_outcomes(passed=10)  # run A released its claim when it ended


def test_a_claim_left_by_a_run_that_died_is_taken_over(project, external):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    external.narrative_test.narrative_fixtures_claim.insert_one({"_id": "claim", **owner_record("deadbeef0001", dead.pid)})
    external.narrative_test.scratch.insert_many([{"left": n} for n in range(3)])  # what the dead run left
    project.makepyfile(TEN_MONGODB_TESTS)
    project.runpytest_inprocess().assert_outcomes(passed=10)
    assert external.narrative_test.scratch.count_documents({}) == 0
    assert external.narrative_test.narrative_fixtures_claim.count_documents({}) == 0


def test_a_claim_of_a_run_on_another_host_is_refused_unless_opted_in(project, external):
    record = {**owner_record("0th3rh0st001"), "host": "ci-runner-7"}
    external.narrative_test.narrative_fixtures_claim.insert_one({"_id": "claim", **record})
    project.makepyfile(TEN_MONGODB_TESTS)
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    one_line_errors(result, "it is claimed by run 0th3rh0st001 (pid * on ci-runner-7, since *), which may still be"
                            " running on another host")
    project._monkeypatch.setenv("TEST_MONGODB_ALLOW_UNSAFE", "1")
    project.runpytest_inprocess().assert_outcomes(passed=10)


# --- issue 13: no test sees what an earlier test wrote, whoever wrote it --------------------------------------------

WRITES_THROUGH_ITS_OWN_CLIENT = """
import pymongo, pytest

FOREIGN = 0

def test_{order}_writes_through_its_own_client(mongodb_service):
    client = pymongo.MongoClient(mongodb_service.url)
    database = client[mongodb_service.database]
    database.batch_jobs.insert_one({{"from": "b"}})
    database.brand_new.insert_one({{"from": "b"}})
    client.close()
"""

SEES_NOTHING = """
import pytest

@pytest.mark.asyncio
async def test_{order}_starts_empty(setup_database):
    names = [name for name in await setup_database.list_collection_names() if name != "narrative_fixtures_claim"]
    found = {{name: await setup_database[name].find({{}}, {{"_id": 0}}).to_list() for name in names}}
    assert {{name: docs for name, docs in found.items() if docs}} == {{}}
    await setup_database.batch_jobs.insert_one({{"from": "a"}})
"""


@pytest.mark.parametrize("mode", ["embedded", "external"])
def test_a_test_never_sees_what_an_earlier_test_wrote_through_its_own_client(project, external, mode):
    tests = "\n".join(
        [SEES_NOTHING.format(order="t1"), WRITES_THROUGH_ITS_OWN_CLIENT.format(order="t2"),
         SEES_NOTHING.format(order="t3"), WRITES_THROUGH_ITS_OWN_CLIENT.format(order="t4"),
         SEES_NOTHING.format(order="t5")]
    )
    project.makepyfile(test_isolation=tests)
    if mode == "embedded":
        project._monkeypatch.delenv("TEST_MONGODB_URI")
    result = project.runpytest_subprocess("-p", "no:randomly", "--timeout", "120")
    result.assert_outcomes(passed=5)


def test_a_write_before_the_first_fixture_test_is_gone_too(project, external):
    project.makepyfile(test_isolation="\n".join(
        [WRITES_THROUGH_ITS_OWN_CLIENT.format(order="t1"), SEES_NOTHING.format(order="t2")]
    ))
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


# --- case 12: FerretDB's credentials message -----------------------------------------------------------------------


def test_ferretdbs_two_line_credentials_message_becomes_one_line(project):
    from tests.mongodb_support import own_ferretdb_with_users

    point_nested_runs_at(project)
    project.makepyfile(TEN_MONGODB_TESTS)
    with own_ferretdb_with_users("test_admin", "Right-Pa55word") as url:
        uri = url.replace("mongodb://", "mongodb://test_admin:Wr0ng-Pa55word@") + "?authMechanism=PLAIN"
        project._monkeypatch.setenv("TEST_MONGODB_URI", uri)
        result = project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    lines = [line for line in before_short_summary(result.stdout.lines) if "refused the credentials" in line]
    assert len(lines) == 10, result.stdout.str()
    assert "TEST_MONGODB_URI=mongodb://test_admin:***@127.0.0.1:" in lines[0]
    assert lines[0].endswith('(Unsupported authentication mechanism "PLAIN". See'
                             ' https://docs.ferretdb.io/v1.24/security/authentication/ for more details.)'), lines[0]
    assert not [line for line in result.stdout.lines if line.strip().startswith("See https://docs.ferretdb.io")]
    assert "Wr0ng-Pa55word" not in result.stdout.str()


# --- case 9: health ------------------------------------------------------------------------------------------------


def test_health_names_a_frozen_or_dead_server_within_its_bound(monkeypatch):
    """Asserted by the waits the check allowed itself (0.3 s per socket, one connection), not by a clock."""
    from narrative_fixtures.services.mongodb import PROVIDER
    from narrative_fixtures.services.mongodb.provider import HEALTH_TIMEOUT
    from tests.bounded_waits import socket_waits

    with own_ferretdb() as endpoint:
        assert PROVIDER.health(endpoint) is None
        os.kill(endpoint.pid, signal.SIGSTOP)
        try:
            wait_until_stopped(endpoint.pid)  # a loaded machine stops it late: until then it still answers
            with socket_waits(monkeypatch) as frozen_waits:
                frozen = PROVIDER.health(endpoint)
        finally:
            os.kill(endpoint.pid, signal.SIGCONT)
        assert frozen == "no answer to ping within 0.3 s", frozen
        assert len(frozen_waits.connects) == 1 and frozen_waits.bounded_by(HEALTH_TIMEOUT), frozen_waits
        assert PROVIDER.health(endpoint) is None, "healthy again once it runs"
    with socket_waits(monkeypatch) as dead_waits:
        dead = PROVIDER.health(endpoint)
    assert dead is not None and dead.startswith("cannot connect"), dead
    assert len(dead_waits.connects) == 1 and dead_waits.bounded_by(HEALTH_TIMEOUT), dead_waits  # refused: no retry


def thread_states(pid: int) -> list[str]:
    """The scheduler state (``R``, ``S``, ``T``...) of every thread of ``pid``, from /proc."""
    states = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                states.append(stat.read().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return states


def wait_until_stopped(pid: int, attempts: int = 1000) -> None:
    """Return once every thread of ``pid`` is stopped (state ``T``); fail if the kernel never stops it."""
    for _ in range(attempts):
        if all(state in ("T", "t") for state in thread_states(pid)):
            return
        time.sleep(0.01)
    pytest.fail(f"process {pid} never stopped after SIGSTOP: {thread_states(pid)}", pytrace=False)


def test_wait_until_stopped_waits_for_every_thread_of_a_stopped_process():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert "T" not in thread_states(sleeper.pid)
        os.kill(sleeper.pid, signal.SIGSTOP)
        wait_until_stopped(sleeper.pid)
        assert set(thread_states(sleeper.pid)) <= {"T", "t"}
    finally:
        sleeper.kill()
        sleeper.wait()


def test_health_never_raises_on_a_uri_it_cannot_ping_raw():
    from narrative_fixtures.services.mongodb import PROVIDER, MongoDBEndpoint

    srv = MongoDBEndpoint("mongodb", "external", "mongodb+srv://u:p@cluster.invalid/", "MongoDB", "7.0")
    assert isinstance(PROVIDER.health(srv), (str, type(None)))  # no exception (its DNS lookup is the system's: untimed)
