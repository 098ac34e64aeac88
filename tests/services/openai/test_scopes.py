"""One external fake shared by xdist workers: each worker's clients and controller use a scope of their own
(``/_scope/<run>-<worker>/v1``), so scripts and records never cross; without xdist nothing changes."""

from __future__ import annotations

import httpx
import openai
import pytest

from narrative_fixtures.services.openai.fake import FakeOpenAI, RemoteBackend
from narrative_fixtures.services.openai.fake.scopes import ScopedStates, scoped_url

from .conftest import KEY

WORKERS = """
import os, time
from pathlib import Path

import pytest

RENDEZVOUS = Path({rendezvous!r})


def wait_for_both(step):
    # both workers at the same step before either goes on: their scripts are queued at the same time
    worker = os.environ["PYTEST_XDIST_WORKER"]
    (RENDEZVOUS / f"{{step}}-{{worker}}").touch()
    for _ in range(2400):  # up to 2 minutes: a busy machine starts the two workers far apart
        if len(list(RENDEZVOUS.glob(f"{{step}}-*"))) == 2:
            return worker
        time.sleep(0.05)
    pytest.fail(f"the other worker never reached {{step}}")


def test_each_worker_gets_its_own_script_and_record(openai_server, openai_sync_client, openai_service):
    worker = wait_for_both("start")
    assert "/_scope/" in openai_service.url and openai_service.url.endswith(f"-{{worker}}/v1")
    openai_server.reply(f"scripted by {{worker}}").reply(f"then {{worker}} again")
    wait_for_both("scripted")
    for expected in (f"scripted by {{worker}}", f"then {{worker}} again"):
        answer = openai_sync_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{{"role": "user", "content": worker}}]
        )
        assert answer.choices[0].message.content == expected
    wait_for_both("answered")
    assert [request.messages[0]["content"] for request in openai_server.requests] == [worker, worker]
    assert openai_server.pending == 0
"""


def test_xdist_workers_sharing_an_external_fake_never_cross(project, standalone_fake, tmp_path):
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    project.makepyfile(test_workers=WORKERS.format(rendezvous=str(rendezvous)))
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", standalone_fake)
    result = project.runpytest_subprocess("-n", "2", "--dist", "each", "-p", "no:randomly", "--require-services")
    result.assert_outcomes(passed=2)
    default = FakeOpenAI(standalone_fake, RemoteBackend(standalone_fake[: -len("/v1")]), KEY)
    assert default.chat_requests == [], "the workers' requests stayed in their scopes (only the connect probes here)"


def test_without_xdist_the_external_fake_is_used_unscoped(project, standalone_fake):
    project.makepyfile(
        """
        def test_plain(openai_service, openai_server, openai_sync_client):
            assert "/_scope/" not in openai_service.url  # an app given TEST_OPENAI_BASE_URL sees the same record
            openai_sync_client.models.list()
            assert len(openai_server.requests) == 1
        """
    )
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", standalone_fake)
    project.runpytest_subprocess("-p", "no:randomly", "--require-services").assert_outcomes(passed=1)


def test_a_scope_has_its_own_state_and_the_default_keeps_unscoped_requests(server, fake):
    scoped = FakeOpenAI(scoped_url(server.root_url, "run1-gw0"), RemoteBackend(f"{server.root_url}/_scope/run1-gw0"), KEY)
    scoped.reset()
    scoped.reply("for the scope")
    fake.reply("for the default")
    scoped_client = openai.OpenAI(base_url=scoped.url, api_key=KEY, max_retries=0)
    plain_client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    hello = [{"role": "user", "content": "hi"}]
    assert scoped_client.chat.completions.create(model="m", messages=hello).choices[0].message.content == "for the scope"
    assert plain_client.chat.completions.create(model="m", messages=hello).choices[0].message.content == "for the default"
    assert [entry.path for entry in scoped.requests] == ["/v1/chat/completions"]  # recorded without the prefix
    assert len(fake.requests) == 1 and scoped.pending == fake.pending == 0
    scoped.reset()


def test_a_bad_scope_name_is_an_unserved_path(server, fake):
    with httpx.Client(headers={"authorization": f"Bearer {KEY}"}) as http:
        answer = http.get(f"{server.root_url}/_scope/no%20spaces/v1/models")
    assert answer.status_code == 404 and fake.requests == []


def test_the_least_recently_used_scope_goes_past_the_bound():
    from narrative_fixtures.services.openai.fake.models import FakeOpenAIState

    scopes = ScopedStates(FakeOpenAIState(max_records=7), max_scopes=2)
    first = scopes.state("a")
    scopes.state("b")
    assert scopes.state("a") is first and first.max_records == 7  # made with the default's limits
    scopes.state("c")
    assert scopes.names() == ["a", "c"]


def test_a_fake_without_scopes_under_xdist_is_shared_with_a_one_line_warning(tmp_path, models_only_server):
    from narrative_fixtures.config import resolve
    from narrative_fixtures.core.registry import ProvisionContext
    from narrative_fixtures.services.openai.provider import worker_scope

    settings = resolve({}, {"TEST_OPENAI_BASE_URL": models_only_server}, {"services_log_dir": str(tmp_path)}, tmp_path)
    with pytest.warns(UserWarning) as warned:
        assert worker_scope(models_only_server, ProvisionContext(settings, "gw1", "run1")) is None
    (message,) = [str(entry.message) for entry in warned]
    assert "\n" not in message and "has no per-worker scopes" in message and "TEST_OPENAI_BASE_URL=" in message
    assert worker_scope(models_only_server, ProvisionContext(settings, "master", "run1")) is None  # no warning
