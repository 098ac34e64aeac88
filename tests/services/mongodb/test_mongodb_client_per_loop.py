"""``mongo_client`` / ``setup_database``: one AsyncMongoClient per event loop (core.loop_clients), closed at its end."""

from __future__ import annotations

import pytest

from tests.mongodb_support import PER_TEST_LOOPS_INI

TESTS = """
import gc
import pytest

seen = []


@pytest.mark.asyncio
async def test_first(mongo_client, setup_database):
    seen.append(mongo_client)
    await setup_database["notes"].insert_one({"n": 1})


@pytest.mark.asyncio
async def test_second(mongo_client, setup_database):
    seen.append(mongo_client)
    assert await setup_database["notes"].count_documents({}) == 0  # the same client, still an empty database
    print(f"\\nSAME-CLIENT {seen[0] is seen[1]}")


def test_closed_when_its_loop_ends():
    pass
"""

CONFTEST = """
import sys


def pytest_sessionfinish(session):
    seen = sys.modules["test_clients"].seen
    print(f"\\nCLOSED-AT-END {all(client._closed for client in seen)}")
"""


@pytest.mark.parametrize("loop_scope, same", [("session", True), ("function", False)])
def test_one_client_per_event_loop_closed_when_the_loop_ends(project, loop_scope, same):
    project.makeini(
        "[pytest]\nasyncio_mode = strict\nservices_log_dir = reports/services\n"
        f"asyncio_default_fixture_loop_scope = {loop_scope}\nasyncio_default_test_loop_scope = {loop_scope}\n"
    )
    project.makepyfile(test_clients=TESTS)
    project.makeconftest(CONFTEST)
    result = project.runpytest_subprocess("-s", "-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=3)
    assert f"SAME-CLIENT {same}" in result.stdout.str()
    assert "CLOSED-AT-END True" in result.stdout.str()
    assert "Unclosed AsyncMongoClient" not in result.stdout.str() + result.stderr.str()


def test_a_per_test_loop_starts_no_executor_thread_for_the_client(project):
    """PyMongo resolves the server's address with ``loop.getaddrinfo``: on a per-test loop that was a thread made and
    joined every test. The embedded server's address is numeric, resolved on the loop's thread."""
    project.makeini(PER_TEST_LOOPS_INI)
    project.makepyfile(test_executor="""
import asyncio
import pytest


@pytest.mark.asyncio
async def test_it(setup_database):
    await setup_database["notes"].insert_one({"n": 1})
    assert asyncio.get_running_loop()._default_executor is None
""")
    result = project.runpytest_subprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=1)
