"""The MongoDB fixtures as another project meets them: plain pytest-asyncio tests, own models, skip vs strict,
safety refusals, per-worker databases, lazy imports, bad URIs, the embedded server and its build."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pymongo
import pytest

from narrative_fixtures.errors import ConfigError, UnsafeTarget
from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint
from tests.conftest import closed_port
from tests.mongodb_support import CACHE_DIR, own_ferretdb, point_nested_runs_at

TEN_MONGODB_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(10))
async def test_uses_mongodb(setup_database, n):
    assert await setup_database.command("ping")
"""


@pytest.fixture
def mongo_project(project):
    """The plain project of tests/conftest.py, with every MongoDB variable of the outer run removed."""
    point_nested_runs_at(project)
    return project


@pytest.fixture
def external(mongo_project, ferretdb):
    """Point the nested runs at the module's FerretDB; returns a sync client to look at what they did."""
    mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", ferretdb.url)
    client = pymongo.MongoClient(ferretdb.url, serverSelectionTimeoutMS=2000)
    yield client
    client.close()


# --- a plain pytest-asyncio project --------------------------------------------------------------------------------

PLAIN_PROJECT_TESTS = """
import pytest
from narrative_fixtures.models import BatchJob, TrainedModel, UserData

@pytest.mark.asyncio
async def test_1_all_fixtures(mongodb_service, mongo_client, setup_database, test_user_data, test_trained_model,
                              test_batch_job):
    endpoint = mongodb_service
    assert (endpoint.mode, endpoint.backend, endpoint.version) == ("embedded", "FerretDB", "1.24.2")
    assert setup_database.name == "narrative_test"
    assert (await mongo_client.admin.command("ping"))["ok"] == 1
    stored = await TrainedModel.get(test_trained_model.id)
    assert (await stored.dataset.fetch()).id == test_user_data.id
    assert (await BatchJob.get(test_batch_job.id)).status.value == "pending"
    assert await UserData.count() == 1

@pytest.mark.asyncio
async def test_2_starts_clean(setup_database):
    assert await UserData.count() == await TrainedModel.count() == await BatchJob.count() == 0
"""


def test_a_plain_pytest_asyncio_project_gets_an_embedded_server_and_every_fixture(mongo_project):
    # A fresh interpreter, the project's own function-scoped event loops, the embedded default: nothing configured.
    mongo_project.makepyfile(PLAIN_PROJECT_TESTS)
    result = mongo_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "120")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*mongodb: FerretDB 1.24.2 at mongodb://127.0.0.1:* (embedded, ready in *s*)*"])


def test_projects_register_their_own_documents_by_ini_option(mongo_project, external):
    mongo_project.makepyfile(
        app_models="""
        from beanie import Document
        from narrative_fixtures.models import UserData as BaseUserData

        class UserData(BaseUserData):  # the application's own dataset document, in its own collection
            project: str = "churn"

            class Settings:
                name = "datasets"

        class Note(Document):
            text: str
        """,
        test_app="""
        import pytest
        from app_models import Note, UserData

        @pytest.mark.asyncio
        async def test_own_models(setup_database, beanie_document_models, test_user_data):
            assert beanie_document_models == [UserData, Note]
            assert type(test_user_data) is UserData and test_user_data.project == "churn"
            assert await setup_database["datasets"].count_documents({}) == 1
            await Note(text="hello").insert()
            assert await Note.find_one(Note.text == "hello") is not None
        """,
    )
    mongo_project.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "mongodb_models =\n    app_models:UserData\n    app_models:Note\n"
    )
    mongo_project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_projects_can_override_the_models_fixture_and_missing_models_are_named(mongo_project, external):
    mongo_project.makeconftest(
        """
        import pytest
        from beanie import Document

        class Note(Document):
            text: str

        @pytest.fixture
        def beanie_document_models():
            return [Note]
        """
    )
    mongo_project.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_only_notes(setup_database, beanie_document_models):
            await beanie_document_models[0](text="x").insert()
            assert await setup_database["Note"].count_documents({}) == 1

        @pytest.mark.asyncio
        async def test_needs_user_data(test_user_data):
            pass
        """
    )
    result = mongo_project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_user_data needs a Beanie document named UserData among the registered models (Note)*"]
    )


def test_a_models_setting_that_cannot_be_imported_fails_naming_the_setting(mongo_project, external):
    mongo_project.makepyfile(TEN_MONGODB_TESTS)
    mongo_project._monkeypatch.setenv("TEST_MONGODB_MODELS", "app.missing:UserData")
    result = mongo_project.runpytest_inprocess()
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines(["*mongodb_models (ini) / TEST_MONGODB_MODELS: cannot import 'app.missing:UserData'*"])


# --- unavailable, strict, misconfigured ----------------------------------------------------------------------------


def test_an_unreachable_server_skips_every_test_within_seconds_naming_the_setting(mongo_project, monkeypatch):
    from narrative_fixtures.services import mongodb

    probes = []
    original = mongodb.MongoDBProvider.connect_external
    monkeypatch.setattr(
        mongodb.MongoDBProvider, "connect_external", lambda self, *args: probes.append(1) or original(self, *args)
    )
    mongo_project.makepyfile(TEN_MONGODB_TESTS)
    mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://admin:Pa55word@127.0.0.1:{closed_port()}")
    began = time.perf_counter()
    result = mongo_project.runpytest_inprocess("-rs")
    print(f"10 tests skipped in {time.perf_counter() - began:.2f} s")
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines([
        "SKIPPED [[]10] *mongodb unavailable: cannot reach MongoDB at TEST_MONGODB_URI=mongodb://admin:***@127.0.0.1:*"
        " within 2 s (*Connection refused*)"
    ])
    assert "Pa55word" not in result.stdout.str()
    assert probes == [1], "the failure must be remembered, not retried by every test"


def test_strict_mode_turns_the_skips_into_failures(mongo_project):
    mongo_project.makepyfile(TEN_MONGODB_TESTS)
    mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://127.0.0.1:{closed_port()}")
    result = mongo_project.runpytest_inprocess("--require-services")
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines(["*cannot reach MongoDB at TEST_MONGODB_URI=*[strict mode: --require-services]*"])


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mongodb://admin:Pa55word@localhost:notaport", "=mongodb://admin:***@localhost:notaport is not a valid"),
        ("http://admin:Pa55word@localhost:27018", "=http://admin:***@localhost:27018 is not a MongoDB URI"),
        ("mongodb://admin:Pa55word@localhost/?authMechanism=NOPE", "=mongodb://admin:***@localhost/?auth*not a valid"),
    ],
)
def test_a_malformed_uri_fails_every_test_naming_the_setting_with_the_password_masked(mongo_project, uri, message):
    mongo_project.makepyfile(TEN_MONGODB_TESTS)
    mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", uri)
    result = mongo_project.runpytest_inprocess()  # not strict: a mistake is never skipped
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines([f"*TEST_MONGODB_URI{message}*"])
    assert "Pa55word" not in result.stdout.str()


def test_a_server_killed_mid_run_fails_the_next_tests_clearly(mongo_project):
    mongo_project.makepyfile(
        """
        import os, signal, pytest
        from narrative_fixtures.services.common import registry_of

        @pytest.mark.asyncio
        async def test_1_kills_the_server(request, setup_database):
            await setup_database["notes"].insert_one({"text": "left for the teardown to delete"})
            os.kill(registry_of(request.config).owned("mongodb").pid, signal.SIGKILL)

        @pytest.mark.asyncio
        async def test_2_needs_mongodb(setup_database):
            pass

        def test_3_needs_no_mongodb():
            pass
        """
    )
    result = mongo_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "60")
    # test 1 passes, its teardown (deleting its document) errors on the dead server; test 2 fails at setup
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*mongodb: the embedded server (pid *) stopped during the run (killed by signal 9)*"])


# --- safety --------------------------------------------------------------------------------------------------------


def test_a_database_not_named_for_tests_is_never_cleaned(mongo_project, external):
    customers = external["customers"]
    customers.orders.insert_one({"_id": "order-42", "total": 99.5})
    try:
        mongo_project.makepyfile(TEN_MONGODB_TESTS)
        mongo_project._monkeypatch.setenv("TEST_MONGODB_DB", "customers")
        result = mongo_project.runpytest_inprocess()
        result.assert_outcomes(errors=10)
        result.stdout.fnmatch_lines([
            "*refusing to clean MongoDB database 'customers' at mongodb://127.0.0.1:*: its name (TEST_MONGODB_DB) does"
            " not contain 'test' as its first or last word (test_x, x_test). Set TEST_MONGODB_DB to a test database,"
            " or TEST_MONGODB_ALLOW_UNSAFE=1 if you mean it*"
        ])
        assert customers.orders.find_one({"_id": "order-42"}) == {"_id": "order-42", "total": 99.5}
        assert customers.list_collection_names() == ["orders"], "not even Beanie's indexes were created"
        mongo_project._monkeypatch.setenv("TEST_MONGODB_ALLOW_UNSAFE", "1")
        mongo_project.runpytest_inprocess().assert_outcomes(passed=10)
        assert customers.orders.count_documents({}) == 0, "with the opt-in the database is cleaned as asked"
    finally:
        external.drop_database("customers")


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_server_that_is_not_on_loopback_is_never_cleaned(mongo_project):
    from narrative_fixtures.provisioning import free_port
    from narrative_fixtures.services.mongodb import ferretdb_binary

    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to serve from")
    port = free_port(address)
    workdir = mongo_project.mkdir("ferretdb-remote")
    (workdir / "data").mkdir()
    server = subprocess.Popen(
        [str(ferretdb_binary(CACHE_DIR)), "--handler=sqlite", f"--sqlite-url=file:{workdir}/data/",
         f"--state-dir={workdir}", f"--listen-addr={address}:{port}", "--debug-addr=-", "--telemetry=disable"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = pymongo.MongoClient(f"mongodb://{address}:{port}/", serverSelectionTimeoutMS=10000)
    try:
        client.narrative_test.orders.insert_one({"_id": "order-7"})
        mongo_project.makepyfile(TEN_MONGODB_TESTS)
        mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://{address}:{port}/")
        result = mongo_project.runpytest_inprocess()
        result.assert_outcomes(errors=10)
        result.stdout.fnmatch_lines(["*refusing to clean MongoDB database 'narrative_test' at mongodb://*: not a"
                                     " loopback server. Point TEST_MONGODB_URI at a local test server*"])
        assert client.narrative_test.orders.find_one({"_id": "order-7"}) == {"_id": "order-7"}
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _endpoint(database: str, loopback: bool = True) -> MongoDBEndpoint:
    return MongoDBEndpoint("mongodb", "external", "mongodb://u:secret@db.example.com:27017/", "MongoDB", "7.0.14",
                           database=database, loopback=loopback)


def test_the_safety_rules():
    from narrative_fixtures.services.mongodb import check_safe_target, is_loopback, parse_hosts

    check_safe_target(_endpoint("narrative_test_gw1"), "narrative_test_gw1")
    check_safe_target(_endpoint("production", loopback=False), "production", allow_unsafe=True)
    with pytest.raises(UnsafeTarget, match="'production'.*does not contain 'test' as its first or last word"):
        check_safe_target(_endpoint("production"), "production")
    with pytest.raises(UnsafeTarget, match="not a loopback server") as refused:
        check_safe_target(_endpoint("narrative_test", loopback=False), "narrative_test")
    assert "secret" not in str(refused.value)
    assert [is_loopback(host) for host in ("localhost", "127.0.0.1", "127.8.0.1", "::1", "/tmp/mongodb-27017.sock",
                                            "10.0.0.5", "db.example.com", "192.0.2.2")] == [True] * 5 + [False] * 3
    hosts = parse_hosts("mongodb://u:p@localhost:27018,db.example.com:27017/?replicaSet=rs0")
    assert hosts == ["localhost", "db.example.com"]
    with pytest.raises(ConfigError, match="TEST_MONGODB_URI=mongodb://u:\\*\\*\\*@h:x is not a valid MongoDB URI"):
        parse_hosts("mongodb://u:p@h:x")


# --- per-worker databases ------------------------------------------------------------------------------------------


def test_each_xdist_worker_gets_its_own_database(mongo_project, external):
    record = mongo_project.path / "databases.txt"
    mongo_project.makepyfile(
        f"""
        import os, pytest
        from narrative_fixtures.models import BatchJob

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(8))
        async def test_worker_database(setup_database, test_batch_job, n):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            assert setup_database.name == "narrative_test_" + worker
            assert await BatchJob.count() == 1  # the other worker's jobs are in its own database
            with open({str(record)!r}, "a") as out:
                out.write(setup_database.name + "\\n")
        """
    )
    mongo_project.runpytest_subprocess("-n", "2", "-p", "no:randomly").assert_outcomes(passed=8)
    assert set(record.read_text().split()) == {"narrative_test_gw0", "narrative_test_gw1"}
    for name in ("narrative_test_gw0", "narrative_test_gw1"):
        assert external[name]["batch_jobs"].count_documents({}) == 0, "each worker cleaned up after itself"


# --- lazy imports --------------------------------------------------------------------------------------------------


def test_a_run_that_uses_no_mongodb_never_imports_beanie_or_the_models(mongo_project):
    mongo_project.makepyfile(
        """
        import sys

        def test_unit():
            assert "beanie" not in sys.modules
            assert "narrative_fixtures.models" not in sys.modules

        def test_driver_too_when_no_other_plugin_imports_it(request):
            if request.config.pluginmanager.has_plugin("pytest_mongo"):
                return  # pytest-mongo's plugin imports pymongo itself; the run below disables it
            assert "pymongo" not in sys.modules and "bson" not in sys.modules
        """
    )
    mongo_project.runpytest_subprocess().assert_outcomes(passed=2)
    mongo_project.runpytest_subprocess("-p", "no:pytest_mongo").assert_outcomes(passed=2)


# --- the embedded server and its binary ----------------------------------------------------------------------------


def test_the_embedded_server_names_itself_honestly_and_two_can_run_side_by_side(ferretdb):
    assert (ferretdb.backend, ferretdb.version, ferretdb.storage) == ("FerretDB", "1.24.2", "SQLite")
    assert ferretdb.mongodb_compat.startswith("7.")
    print(f"FerretDB cold start (spawn -> ready): {ferretdb.started_in * 1000:.0f} ms")
    with own_ferretdb() as second:  # the debug/metrics listener is off, so nothing collides on :8088
        assert second.url != ferretdb.url
        assert pymongo.MongoClient(second.url).admin.command("ping")["ok"] == 1
        command = open(f"/proc/{second.pid}/cmdline").read().split("\0")
        assert "--debug-addr=-" in command and "--telemetry=disable" in command
        assert not any(arg.startswith("--listen-addr=") and "127.0.0.1" not in arg for arg in command)


def test_the_build_command_is_idempotent_and_reuses_a_working_binary():
    done = subprocess.run(
        [sys.executable, "-m", "narrative_fixtures.services.mongodb", "build"], capture_output=True, text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "FerretDB 1.24.2 is built:" in done.stdout


def test_a_binary_that_does_not_run_is_not_reused(tmp_path):
    from narrative_fixtures.services.mongodb import binary_works, ferretdb_binary

    broken = ferretdb_binary(tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho 'panic: Invalid build/version/version.txt file content' >&2\nexit 2\n")
    broken.chmod(0o755)
    assert not binary_works(broken)


def test_without_go_and_without_a_binary_the_build_says_what_to_do(tmp_path):
    env = {**os.environ, "PATH": "/nonexistent", "NARRATIVE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "narrative_fixtures.services.mongodb", "build"], capture_output=True, text=True, env=env,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Go is not installed to build it" in done.stderr and "TEST_MONGODB_URI" in done.stderr


def test_wrong_or_missing_credentials_fail_every_test_naming_the_setting(mongo_project):
    from tests.mongodb_support import own_ferretdb_with_users

    mongo_project.makepyfile(TEN_MONGODB_TESTS)
    with own_ferretdb_with_users("test_admin", "Right-Pa55word") as url:
        port_url = url.removeprefix("mongodb://")
        mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://test_admin:Wr0ng-Pa55word@{port_url}")
        result = mongo_project.runpytest_inprocess()
        result.assert_outcomes(errors=10)
        result.stdout.fnmatch_lines(["*MongoDB refused the credentials in TEST_MONGODB_URI=mongodb://test_admin:***@"
                                     "127.0.0.1:*/ for database 'narrative_test' (Authentication failed.)*"])
        assert "Wr0ng-Pa55word" not in result.stdout.str()
        mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", url)
        result = mongo_project.runpytest_inprocess()
        result.assert_outcomes(errors=10)
        result.stdout.fnmatch_lines(["*MongoDB refused the credentials in TEST_MONGODB_URI=mongodb://127.0.0.1:*"
                                     " (Command listCollections requires authentication)*"])
        mongo_project._monkeypatch.setenv("TEST_MONGODB_URI", f"mongodb://test_admin:Right-Pa55word@{port_url}")
        result = mongo_project.runpytest_inprocess()
        result.assert_outcomes(passed=10)
        assert "Right-Pa55word" not in result.stdout.str()
