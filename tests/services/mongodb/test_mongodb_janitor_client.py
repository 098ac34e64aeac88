"""``setup_database`` with pytest-asyncio's per-test event loops: the janitor's emptying and checks go through one
synchronous PyMongo client for the run (no connection handshake per test, independent of event loops), closed at
the run's end before the server is asked to stop; a collection a test dropped gets the models' indexes back in the next test; the registered models
are imported once, each test getting a list of its own."""

from __future__ import annotations

import pytest

from tests.mongodb_support import PER_TEST_LOOPS_INI, point_nested_runs_at

CONFTEST = """
import pytest
from narrative_fixtures.core.processes import ServerProcess
from narrative_fixtures.services.mongodb.factories import _JANITORS

janitors = []
terminate = ServerProcess.terminate


def terminate_and_say(server):
    # FerretDB waits 3 s for a connection still open when asked to stop: the janitor must be closed by then
    if server.name == "mongodb":
        print(f"\\nAT-SERVER-STOP {[client._closed for client in janitors]}")
    terminate(server)


ServerProcess.terminate = terminate_and_say


def pytest_configure(config):
    # registered before the plugin's own cleanups, so it runs after them (LIFO): the janitor is closed by then
    config.add_cleanup(lambda: print(f"\\nJANITOR-CLOSED {[client._closed for client in janitors]}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    janitors.extend(item.config.stash.get(_JANITORS, {}).values())
    print(f"\\nJANITORS {len(set(map(id, janitors)))} of {len(janitors)}")
"""

TESTS = """
import pytest


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_each_starts_empty(setup_database, n):
    assert await setup_database["notes"].count_documents({}) == 0
    await setup_database["notes"].insert_one({"n": n})


@pytest.mark.asyncio
async def test_drops_a_model_collection(setup_database):
    await setup_database.drop_collection("user_data")


@pytest.mark.asyncio
async def test_the_models_indexes_are_made_again(setup_database):
    assert "user_uploads" in await setup_database["user_data"].index_information()


def test_changes_its_list_of_models(beanie_document_models):
    beanie_document_models.clear()


def test_gets_every_registered_model_still(beanie_document_models):
    assert [model.__name__ for model in beanie_document_models] == ["UserData", "TrainedModel", "BatchJob"]
"""


@pytest.fixture
def per_test_loops(project):
    point_nested_runs_at(project)
    project.makeini(PER_TEST_LOOPS_INI)
    project.makeconftest(CONFTEST)
    project.makepyfile(test_janitor=TESTS)
    return project


def test_one_janitor_client_for_the_run_closed_at_its_end_indexes_made_again_models_kept(per_test_loops):
    result = per_test_loops.runpytest_subprocess("-s", "-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=7)
    output = result.stdout.str()
    assert "JANITORS 1 of 7" in output, output  # the same client after every one of the seven tests
    assert f"JANITOR-CLOSED {[True] * 7}" in output, output
    assert f"AT-SERVER-STOP {[True] * 7}" in output, output  # closed before the server was asked to stop
