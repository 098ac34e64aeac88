"""core.loop_clients: one async client per event loop while the loop outlives a test, closed on it at its end."""

from __future__ import annotations

import asyncio
import socket

import pytest

from narrative_fixtures.core.loop_clients import resolve_numeric_hosts_inline

CONFTEST = """
import asyncio
import pytest
import pytest_asyncio

from narrative_fixtures.core.loop_clients import loop_client

MADE, CLOSED = [], []


class FakeClient:
    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.closed = False
        MADE.append(self)

    async def close(self):
        assert asyncio.get_running_loop() is self.loop  # closed on the loop it was made on
        self.closed = True
        CLOSED.append(self)


@pytest_asyncio.fixture
async def client(request):
    async with loop_client(request, "server-a", FakeClient, lambda c: c.close(), lambda c: not c.closed) as made:
        yield made


def pytest_sessionfinish(session):
    print(f"\\nMADE {len(MADE)} CLOSED {len(CLOSED)} ALL-CLOSED {all(c.closed for c in MADE)}")
"""

TESTS = """
import pytest

seen = []


@pytest.mark.asyncio
async def test_first(client):
    seen.append(client)


@pytest.mark.asyncio
async def test_second(client):
    seen.append(client)
    print(f"\\nSAME-CLIENT {seen[0] is seen[1]} FIRST-CLOSED {seen[0].closed}")


@pytest.mark.asyncio
async def test_closes_it(client):
    await client.close()


@pytest.mark.asyncio
async def test_after_a_close(client):
    assert not client.closed  # a closed pooled client is replaced
"""


def run(pytester: pytest.Pytester, loop_scope: str) -> str:
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\n"
        f"asyncio_default_fixture_loop_scope = {loop_scope}\nasyncio_default_test_loop_scope = {loop_scope}\n"
    )
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_clients=TESTS)
    result = pytester.runpytest_subprocess("-s", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    return result.stdout.str()


def test_a_session_loop_keeps_one_client_for_the_next_test_and_closes_it_at_the_end(pytester):
    output = run(pytester, "session")
    assert "SAME-CLIENT True FIRST-CLOSED False" in output
    assert "MADE 2 CLOSED 3 ALL-CLOSED True" in output  # the test closed one (replaced), then both closed at the end


def test_a_module_loop_keeps_it_for_the_module(pytester):
    output = run(pytester, "module")
    assert "SAME-CLIENT True FIRST-CLOSED False" in output
    assert "ALL-CLOSED True" in output


def test_per_test_loops_get_a_new_client_each_closed_after_its_test(pytester):
    output = run(pytester, "function")
    assert "SAME-CLIENT False FIRST-CLOSED True" in output
    assert "MADE 4 CLOSED 5 ALL-CLOSED True" in output  # one a test, each closed after it (one twice)


# --- a numeric host resolved on the loop's thread (no default executor per test loop) --------------------------


def lookups_on(loop):
    """Records what the loop hands to its executor, then runs it there as before."""
    handed = []
    run_in_executor = loop.run_in_executor

    def recorded(executor, func, *args):
        handed.append(args[:1])
        return run_in_executor(executor, func, *args)

    loop.run_in_executor = recorded
    return handed


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", b"127.0.0.1"])
def test_a_numeric_host_is_resolved_on_the_loop_thread_with_the_answer_of_the_system(host):
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        handed = lookups_on(loop)
        resolve_numeric_hosts_inline(loop)
        resolve_numeric_hosts_inline(loop)  # idempotent: one wrapper, not two
        answer = runner.run(loop.getaddrinfo(host, 27017, type=socket.SOCK_STREAM))
        assert answer == socket.getaddrinfo(host, 27017, type=socket.SOCK_STREAM)
        assert handed == []
        assert loop._default_executor is None  # no thread started, none to join when the loop ends


def test_a_name_is_still_resolved_the_way_the_loop_resolves_it():
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        handed = lookups_on(loop)
        resolve_numeric_hosts_inline(loop)
        answer = runner.run(loop.getaddrinfo("localhost", 6379, type=socket.SOCK_STREAM))
        assert answer and all(entry[4][1] == 6379 for entry in answer)
        assert handed == [("localhost",)]  # on the executor, as asyncio does it


def test_a_client_made_through_loop_client_finds_its_loop_resolving_numeric_hosts_inline(pytester):
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_inline="""
import asyncio
import pytest

from narrative_fixtures.core.loop_clients import loop_client


class Client:
    async def close(self):
        pass


@pytest.mark.asyncio
async def test_it(request):
    async with loop_client(request, "k", Client, lambda c: c.close()):
        await asyncio.get_running_loop().getaddrinfo("127.0.0.1", 1)
    assert asyncio.get_running_loop()._default_executor is None
""")
    pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider").assert_outcomes(passed=1)
