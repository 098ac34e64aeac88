"""Steps of the OpenAI feature about the fake API itself: the test's fake and its clients, never the real API, a
clean fake for every test, a second fake from the plugin's factories (the other steps: ``steps.openai_*``)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.openai import FAKE_API_KEY, factories
from narrative_fixtures.services.openai.fake.guard import is_real_openai
from steps.common import run_nested
from steps.openai_support import LOOPBACK_HOSTS, MODEL, Asked, attempt, openai, quoted, user


# --- background and readiness -------------------------------------------------------------------------------


@given("a fake OpenAI API for this test", target_fixture="fake")
def fake_api(openai_server):
    assert openai_server.pending == 0, "the test did not start with an empty script"
    assert openai_server.requests == [], "the test did not start with an empty record"
    return openai_server


@then("the OpenAI client reaches the fake API, never the real one")
def reaches_fake(openai_client, openai_service, run_async):
    host = urlsplit(str(openai_client.base_url)).hostname
    assert str(openai_client.base_url).rstrip("/") == openai_service.url
    assert not is_real_openai(host)
    if openai_service.mode == "embedded":
        assert host in LOOPBACK_HOSTS
    assert run_async(openai_client.models.list()).data


@then(parsers.parse("the fake API lists the models {names}"))
def lists_models(openai_client, run_async, names):
    listed = {model.id for model in run_async(openai_client.models.list()).data}
    assert set(quoted(names)) <= listed


@then("the fake API received a test key, never a real one")
def received_test_key(fake, openai_client):
    assert fake.requests, "the fake API received no request"
    assert {entry.headers.get("authorization") for entry in fake.requests} == {"Bearer ***"}  # masked in the record
    assert openai_client.api_key == fake.api_key
    assert os.environ.get("OPENAI_API_KEY") == FAKE_API_KEY, "a real key stays out of the environment during the run"


@then("a synchronous OpenAI client gets its answers from the same fake API")
def sync_client(fake, openai_sync_client):
    fake.reply("answered synchronously")
    answer = openai_sync_client.chat.completions.create(model=MODEL, messages=user("Are you there?"))
    assert answer.choices[0].message.content == "answered synchronously"
    assert str(openai_sync_client.base_url).rstrip("/") == fake.url
    assert fake.chat_requests[-1].messages == user("Are you there?")


# --- never the real API -------------------------------------------------------------------------------------

UNGUARDED_CLIENTS = {
    "built with the default settings": {},
    "pointed explicitly at api.openai.com": {"base_url": "https://api.openai.com/v1"},
}


@when(parsers.re(r"code under test calls OpenAI with a client (?P<configured>.+)"), target_fixture="asked")
def call_unguarded(run_async, monkeypatch, configured):
    lookups, connections = [], []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        connections.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)

    async def call():
        client = openai.AsyncOpenAI(**UNGUARDED_CLIENTS[configured])  # what application code typically does
        try:
            return await attempt(client.chat.completions.create(model="gpt-4", messages=user("Summarise my dataset")))
        finally:
            await client.close()

    completion, error = run_async(call())
    return Asked(completion=completion, error=error, details={"lookups": lookups, "connections": connections})


@then("the call is refused with a message saying to use the openai_client fixture")
def refused(asked):
    assert isinstance(asked.error, openai.PermissionDeniedError), repr(asked.error)
    assert "blocked a call to the real OpenAI API" in str(asked.error)
    assert "openai_client fixture" in str(asked.error)


@then("no request left this machine and no real key was used")
def nothing_left(asked):
    assert not any(is_real_openai(str(host)) for host in asked.details["lookups"]), asked.details["lookups"]
    assert all(address[0] in LOOPBACK_HOSTS for address in asked.details["connections"]), asked.details["connections"]
    assert asked.error.request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"


# --- isolation ----------------------------------------------------------------------------------------------

ISOLATION_TESTS = '''
import pytest

@pytest.mark.asyncio
async def test_one_scripts(openai_server, openai_client):
    openai_server.reply("only for test one").reply("also for test one").set_default("test one's default")
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "only for test one"
    assert len(openai_server.requests) == 1 and openai_server.pending == 1

@pytest.mark.asyncio
async def test_two_starts_clean(openai_server, openai_client):
    assert openai_server.requests == [] and openai_server.pending == 0
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "This is a response from the fake OpenAI API."
'''


@then("a test that scripts the fake API leaves nothing behind for the test after it")
def isolation(openai_service, pytester: pytest.Pytester):
    # Two ordinary pytest-asyncio tests of "another project" (function-scoped loops), run in order.
    result = run_nested(pytester, ISOLATION_TESTS)
    result.assert_outcomes(passed=2)


# --- a second fake from the plugin's factories --------------------------------------------------------------

# What a project's conftest writes for a second fake OpenAI API: its own port, script, record and client.
openai_second_fake = factories.fake_server_factory(name="second")
second_fake_script = factories.controller_factory("openai_second_fake")
second_fake_client = factories.client_factory("openai_second_fake", controller="second_fake_script")


@given("a second fake OpenAI API and its client, made from the plugin's factories", target_fixture="second")
def second_fake(openai_service, openai_second_fake, second_fake_script, second_fake_client):
    assert openai_second_fake.url != openai_service.url, "the second fake serves on a port of its own"
    assert second_fake_script.requests == [] and second_fake_script.pending == 0, "it starts clean"
    return second_fake_script


@when(
    parsers.parse("the run's fake answers \"{first}\" and the second fake answers \"{second_answer}\""),
    target_fixture="asked",
)
def ask_both(fake, second, openai_client, second_fake_client, run_async, first, second_answer):
    fake.reply(first)
    second.reply(second_answer)
    asked = Asked("Which columns does my dataset have?")
    for client in (openai_client, second_fake_client):
        asked.completions.append(run_async(client.chat.completions.create(model=MODEL, messages=user(asked.question))))
    return asked


@then(parsers.parse('the clients get "{first}" and "{second_answer}", and each fake recorded only its own request'))
def each_its_own(fake, second, asked, first, second_answer):
    assert [completion.choices[0].message.content for completion in asked.completions] == [first, second_answer]
    assert len(fake.chat_requests) == 1 and len(second.chat_requests) == 1
    assert fake.pending == 0 and second.pending == 0
