"""The OpenAI fixture factories as another project's conftest uses them: a second fake with its own client and
script beside the story's fixtures, a fake per module, session-scoped clients, another mock; the safety rules hold
for every factory-made fixture (turned off, strict mode, never the real API)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from narrative_fixtures import reference
from narrative_fixtures.core.network import port_accepts
from narrative_fixtures.services.openai import factories

SECOND_FAKE = """
from narrative_fixtures.services.openai import factories

openai_second = factories.fake_server_factory(name="second")
second_fake = factories.controller_factory("openai_second")
second_client = factories.client_factory("openai_second", controller="second_fake")
second_sync_client = factories.client_factory("openai_second", sync=True)
"""

BESIDE_THE_STORY = """
import pytest

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.asyncio
async def test_two_fakes_side_by_side(openai_service, openai_server, openai_client, openai_second, second_fake,
                                      second_client, second_sync_client):
    assert openai_second.url != openai_service.url and openai_second.port != openai_service.port
    assert openai_second.details == {"scriptable": True} and openai_second.api_key == openai_service.api_key
    openai_server.reply("from the run's fake")
    second_fake.reply("from the second fake").reply("again from the second fake")
    first = await openai_client.chat.completions.create(model="gpt-4", messages=HI)
    second = await second_client.chat.completions.create(model="gpt-4", messages=HI)
    third = second_sync_client.chat.completions.create(model="gpt-4", messages=HI)
    assert first.choices[0].message.content == "from the run's fake"
    assert second.choices[0].message.content == "from the second fake"
    assert third.choices[0].message.content == "again from the second fake"
    assert len(openai_server.requests) == 1 and len(second_fake.requests) == 2
    assert second_fake.last_request.headers["authorization"] == "Bearer ***"
    second_fake.reply("left in the script")


def test_the_second_fake_starts_the_next_test_clean(second_fake, openai_server):
    assert second_fake.pending == 0 and second_fake.requests == []
    assert openai_server.pending == 0 and openai_server.requests == []
"""


def test_a_second_fake_from_a_factory_is_isolated_from_the_run_s_fake(project):
    project.makeconftest(SECOND_FAKE)
    project.makepyfile(BESIDE_THE_STORY)
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=2)
    logs = list(project.path.glob("reports/services/run-*/openai-second.log"))  # PLAIN_INI names reports/services
    assert len(logs) == 1 and "POST /v1/chat/completions 200" in logs[0].read_text()
    result.stdout.fnmatch_lines([f"service logs: {logs[0].parent}"])


PER_MODULE = """
from narrative_fixtures.services.openai import factories

module_fake = factories.fake_server_factory(name="per-module", scope="module")
module_client = factories.client_factory("module_fake", sync=True, scope="module")
"""

USES_MODULE_FAKE = """
def test_{n}(module_fake, module_client):
    assert module_client.models.list().data
    with open("url-{n}", "w") as out:
        out.write(module_fake.url)
"""


def test_a_module_scoped_fake_is_a_new_server_per_module_stopped_after_it(project):
    project.makeconftest(PER_MODULE)
    project.makepyfile(test_a=USES_MODULE_FAKE.format(n="a"), test_b=USES_MODULE_FAKE.format(n="b"))
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    urls = {(project.path / f"url-{n}").read_text() for n in "ab"}
    assert len(urls) == 2, "one fake per module"
    assert not any(port_accepts("127.0.0.1", urlsplit(url).port) for url in urls), "each stopped with its module"


SESSION_CLIENTS = """
import json
from narrative_fixtures.services.openai import factories

shared_sync = factories.client_factory(sync=True, scope="session")
shared_async = factories.client_factory(scope="session", loop_scope="session")
SEEN = []


def pytest_sessionfinish(session):
    with open("clients.json", "w") as out:
        json.dump({"ids": sorted({id(c) for c in SEEN}), "closed": [c.is_closed() for c in SEEN]}, out)
"""

USES_SESSION_CLIENTS = """
import pytest
from conftest import SEEN


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("n", range(3))
async def test_shared(shared_sync, shared_async, openai_server, n):
    openai_server.reply(f"answer {n}")
    answer = await shared_async.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "q"}])
    assert answer.choices[0].message.content == f"answer {n}"
    assert shared_sync.models.list().data
    SEEN.extend([shared_sync, shared_async])
"""


def test_session_scoped_clients_are_shared_by_the_tests_and_closed_at_the_end(project):
    project.makeconftest(SESSION_CLIENTS)
    project.makepyfile(USES_SESSION_CLIENTS)
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    seen = json.loads((project.path / "clients.json").read_text())
    assert len(seen["ids"]) == 2, "one sync and one async client for the whole session"
    assert all(seen["closed"]), "closed when the session ended"


def test_a_mock_from_the_factory_answers_another_canned_response(project):
    project.makeconftest(
        "from narrative_fixtures.services.openai import factories\n"
        "recommending_mock = factories.mock_factory('model_recommendation', model='gpt-4o')\n"
        "plain_mock = factories.mock_factory('Just this text.')\n"
    )
    project.makepyfile(
        """
        import json, pytest

        @pytest.mark.asyncio
        async def test_mocks(recommending_mock, plain_mock, mock_openai, test_openai_response):
            answer = await recommending_mock.client.chat.completions.create(model="gpt-4o", messages=[])
            assert json.loads(answer.choices[0].message.content)["recommended_model"] == "random_forest"
            assert answer.model == "gpt-4o" and plain_mock.response.choices[0].message.content == "Just this text."
            assert mock_openai.response.choices[0].message.content == test_openai_response["data_summarization"]
            assert recommending_mock.async_mock.await_count == 1 and mock_openai.async_mock.await_count == 0
        """
    )
    project.runpytest_inprocess().assert_outcomes(passed=1)


def test_a_factory_fake_is_skipped_when_openai_is_turned_off_and_fails_in_strict_mode(project):
    project.makeconftest(SECOND_FAKE)
    project.makepyfile("def test_second(openai_second):\n    pass\n")
    project._monkeypatch.setenv("TEST_OPENAI_MODE", "off")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*openai is turned off (env TEST_OPENAI_MODE); set TEST_OPENAI_MODE=embedded*"])
    strict = project.runpytest_inprocess("--require-services")
    strict.assert_outcomes(errors=1)
    strict.stdout.fnmatch_lines(["*openai is turned off*[[]strict mode: --require-services[]]*"])


def test_a_factory_client_for_the_real_openai_api_is_refused_before_it_exists(project):
    project.makeconftest(
        """
        import pytest
        from narrative_fixtures.services.openai import OpenAIEndpoint, factories

        @pytest.fixture
        def real_api():
            return OpenAIEndpoint("openai", "external", "https://api.openai.com/v1", "OpenAI", "v1")

        real_client = factories.client_factory("real_api", sync=True)
        """
    )
    project.makepyfile("def test_real(real_client):\n    raise AssertionError('a client was made')\n")
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*openai: refusing a client for https://api.openai.com/v1: it is the real OpenAI API*"])
    assert "a client was made" not in result.stdout.str()


def test_factory_made_fixtures_belong_to_the_module_assigning_them_and_name_what_they_need():
    made = factories.client_factory("openai_second", controller="second_fake", scope="module")
    assert made.__module__ == __name__ and made._fixture_function_marker.scope == "module"
    documented = {doc.name: doc for doc in reference.discover(["narrative_fixtures.services.openai.fixtures"])}
    assert documented["openai_client"].needs == ("openai_service", "_openai_test_scope")
    assert documented["openai_client"].is_async and not documented["openai_sync_client"].is_async
    assert {"mock_openai", "openai_service", "openai_server", "test_openai_response"} <= set(documented)
    assert all(1 <= len(doc.doc_lines) <= 3 for doc in documented.values())


def test_a_misspelled_scope_fails_where_the_factory_is_called():
    with pytest.raises(ValueError, match="scope='sesion' is not a pytest scope"):
        factories.client_factory(scope="sesion")
