"""A fixture's client is closed without the ``endSessions`` a server does not know (FerretDB 1.24), and with it
on a server that knows it; whether it knows is asked once per server and run."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from narrative_fixtures.services.mongodb.sessions import COMMAND_NOT_FOUND, knows_end_sessions
from tests.mongodb_support import PER_TEST_LOOPS_INI

COUNTING_CONFTEST = """
from pymongo import monitoring

ENDED = []  # session ids each endSessions carried (the run's probe carries none)
INSERTS = []


class Counter(monitoring.CommandListener):
    def started(self, event):
        if event.command_name == "endSessions":
            ENDED.append(len(event.command["endSessions"]))
        elif event.command_name == "insert":
            INSERTS.append(event.command["insert"])

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


monitoring.register(Counter())


def pytest_sessionfinish(session):
    print(f"\\nINSERTS {len(INSERTS)} ENDED {ENDED}")
"""

TESTS = """
import pytest


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_database(setup_database, n):
    await setup_database["notes"].insert_one({"n": n})


@pytest.mark.asyncio
async def test_client(mongo_client, mongodb_service):
    await mongo_client[mongodb_service.database]["notes"].insert_one({"n": 9})
"""


def test_a_server_without_end_sessions_is_never_sent_one_when_a_fixtures_client_closes(project):
    project.makeini(PER_TEST_LOOPS_INI)
    project.makeconftest(COUNTING_CONFTEST)
    project.makepyfile(test_sessions=TESTS)
    runs = {}
    for selected, tests in (("test_database and 0", 1), ("test_", 4)):
        result = project.runpytest_subprocess("-s", "-p", "no:randomly", "--require-services", "-k", selected)
        result.assert_outcomes(passed=tests)
        assert "Unclosed AsyncMongoClient" not in result.stdout.str() + result.stderr.str()
        runs[tests] = next(line for line in result.stdout.lines if line.startswith("INSERTS"))
    # each test's client used a session (an insert) and closed; the endSessions sent are the run's own (its probe,
    # carrying no session, and its claim's client), as many with four tests as with one
    assert runs[1].startswith("INSERTS 1 ") and runs[4].startswith("INSERTS 4 ")
    assert runs[1].split(" ENDED ")[1] == runs[4].split(" ENDED ")[1], runs
    assert "0" in runs[4].split(" ENDED ")[1], f"the run did not ask the server: {runs[4]}"


class ProbeClient:
    """A janitor client whose ``admin.command`` answers as told, counting the questions."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.asked = []
        self.admin = self

    def command(self, spec):
        self.asked.append(spec)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    "answer, knows",
    [
        ({"ok": 1.0}, True),  # MongoDB: an empty endSessions is fine
        (OperationFailure("no such command: 'endSessions'", code=COMMAND_NOT_FOUND), False),  # FerretDB 1.24
        (OperationFailure("not authorized", code=13), True),  # any other refusal: PyMongo's behaviour stays
        (ServerSelectionTimeoutError("no server"), True),  # no answer: PyMongo's close, and no second wait
    ],
    ids=["answered", "command-not-found", "unauthorized", "unreachable"],
)
def test_only_a_server_that_does_not_know_the_command_is_spared_it(request, answer, knows):
    client = ProbeClient(answer)
    url = f"mongodb://127.0.0.1:1/{request.node.callspec.id}"
    assert knows_end_sessions(request.config, url, lambda: client) is knows
    assert knows_end_sessions(request.config, url, lambda: client) is knows
    assert client.asked == [{"endSessions": []}]  # asked once per server and run, whatever the answer
