"""The OpenAI fixtures as another project meets them: plain pytest-asyncio tests, modes, xdist, a fake that dies."""

from __future__ import annotations

import pytest

from tests.conftest import closed_port

EVERY_FIXTURE = """
import json
import openai
import pytest

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.mark.asyncio
async def test_scripted_async_client(openai_server, openai_client):
    openai_server.reply("scripted").fail(429, retry_after=0.01)
    first = await openai_client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert first.choices[0].message.content == "scripted"
    with pytest.raises(openai.RateLimitError):
        await openai_client.with_options(max_retries=0).chat.completions.create(model="gpt-4", messages=HELLO)
    assert [entry.status for entry in openai_server.requests] == [200, 429]


def test_sync_client(openai_server, openai_sync_client):
    openai_server.reply_with_tool_call("lookup", {"id": 7})
    answer = openai_sync_client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert json.loads(answer.choices[0].message.tool_calls[0].function.arguments) == {"id": 7}


@pytest.mark.asyncio
async def test_mock(mock_openai, test_openai_response):
    mock_openai.respond_with(test_openai_response["error_diagnosis"], openai.APIConnectionError(request=None))
    answer = await mock_openai.client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert answer.choices[0].message.content == test_openai_response["error_diagnosis"]
    with pytest.raises(openai.APIConnectionError):
        await mock_openai.client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert mock_openai.async_mock.await_count == 2


@pytest.mark.asyncio
async def test_next_test_starts_clean(openai_server, openai_client):
    assert openai_server.requests == [] and openai_server.pending == 0
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert answer.choices[0].message.content == "This is a response from the fake OpenAI API."
"""

SCRIPTED_TEST = """
import pytest

@pytest.mark.asyncio
async def test_scripted(openai_server, openai_client):
    openai_server.reply("from the script")
    answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "from the script"
    assert openai_server.last_request.headers["authorization"] == "Bearer ***"

@pytest.mark.asyncio
async def test_unscripted(openai_client):
    assert (await openai_client.models.list()).data
"""


def test_plain_pytest_asyncio_tests_use_every_fixture(project):
    project.makepyfile(EVERY_FIXTURE)
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["openai: narrative-fake-openai 1.0 at http://127.0.0.1:*/v1 (embedded, ready in *s)"])


def test_the_fake_starts_only_when_a_test_needs_it(project):
    project.makepyfile("def test_nothing_to_do_with_openai():\n    assert True\n")
    result = project.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    assert "narrative-fake-openai" not in result.stdout.str()


def test_fixture_docstrings_say_what_they_yield(project):
    result = project.runpytest_inprocess("--fixtures", "-v")
    names = ("openai_service", "openai_server", "openai_client", "openai_sync_client", "mock_openai", "test_openai_response")
    docs = {name: fixture_doc(result.stdout.lines, name) for name in names}
    assert all(doc and not doc.startswith("no docstring available") for doc in docs.values()), docs
    assert "autospecced AsyncMock" in docs["mock_openai"] and "Responses and embeddings" in docs["mock_openai"]
    assert "Script and record start empty" in docs["openai_server"]


def fixture_doc(lines: list[str], name: str) -> str:
    """The docstring ``pytest --fixtures -v`` prints under fixture ``name`` (its indented lines, joined)."""
    heading = next(at for at, line in enumerate(lines) if line.startswith(f"{name} "))
    body = []
    for line in lines[heading + 1:]:
        if line and not line.startswith(" "):
            break
        body.append(line.strip())
    return " ".join(part for part in body if part)


def test_external_mode_scripts_a_fake_running_elsewhere(project, standalone_fake):
    project.makepyfile(SCRIPTED_TEST)
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", standalone_fake)
    result = project.runpytest_inprocess("--require-services")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*openai: mode=external (env TEST_OPENAI_BASE_URL is set), base_url=http://127.0.0.1:*/v1, api_key=**"])


def test_an_unscriptable_external_fake_serves_clients_and_skips_scripted_tests(project, models_only_server):
    project.makepyfile(SCRIPTED_TEST)
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", models_only_server)
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*cannot be scripted (no /_fake control API); scripted tests need TEST_OPENAI_MODE=embedded*"])
    strict = project.runpytest_inprocess("--require-services")
    strict.assert_outcomes(passed=1, errors=1)
    strict.stdout.fnmatch_lines(["*cannot be scripted*[[]strict mode: --require-services[]]*"])


def test_an_unreachable_external_fake_skips_naming_the_setting(project):
    project.makepyfile(SCRIPTED_TEST)
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED *openai unavailable: cannot reach the OpenAI fake at TEST_OPENAI_BASE_URL=http://127.0.0.1:*"])
    project.runpytest_inprocess("--require-services").assert_outcomes(errors=2)


@pytest.mark.parametrize(("url", "message"), [("ftp://fake/v1", "is not an http(s) base URL"), ("http://h:port/v1", "is not a valid URL")])
def test_malformed_base_urls_fail_with_the_setting_named(project, url, message):
    project.makepyfile(SCRIPTED_TEST)
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", url)
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([f"*TEST_OPENAI_BASE_URL=*{message}*"])


def test_turned_off_openai_skips_and_says_how_to_turn_it_on(project):
    project.makepyfile(SCRIPTED_TEST)
    project._monkeypatch.setenv("TEST_OPENAI_MODE", "off")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*openai is turned off (env TEST_OPENAI_MODE); set TEST_OPENAI_MODE=embedded*"])


def test_under_xdist_each_worker_has_its_own_fake_and_clean_script(project):
    project.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(12))
        async def test_scripted(openai_server, openai_client, n):
            assert openai_server.requests == [] and openai_server.pending == 0
            openai_server.reply(f"answer {n}")
            answer = await openai_client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": str(n)}])
            assert answer.choices[0].message.content == f"answer {n}"
            with open(f"port-{os.environ['PYTEST_XDIST_WORKER']}-{n}", "w") as out:
                out.write(openai_server.url)
        """
    )
    result = project.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=12)
    by_worker: dict[str, set[str]] = {}
    for marker in project.path.glob("port-*"):
        by_worker.setdefault(marker.name.split("-")[1], set()).add(marker.read_text())
    assert len(by_worker) == 2 and all(len(urls) == 1 for urls in by_worker.values())
    assert len(set.union(*by_worker.values())) == 2, "one fake per worker process"


def test_a_fake_that_stops_mid_run_fails_the_next_tests_in_one_line(project):
    project.makepyfile(
        """
        import pytest
        from narrative_fixtures.services.common import registry_of

        def test_1_stops_the_fake(request, openai_server):
            registry_of(request.config).owned("openai").stop()

        def test_2_needs_the_fake(openai_server):
            pass

        def test_3_needs_no_fake():
            pass
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    # test 1 passes and its teardown (reset) still works on the stopped fake's state; test 2 fails at setup
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*openai: the in-process fake OpenAI API (port *) stopped serving during the run; log: *openai*.log*"])
