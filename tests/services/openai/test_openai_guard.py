"""No real OpenAI call can happen in a run: a real-looking key in the environment is neither used nor sent.

The proof runs another project's tests in a fresh interpreter with ``OPENAI_API_KEY`` set to a real-looking key
and no fake configured. An audit hook (``sys.addaudithook``) in that interpreter sees every DNS lookup and every
socket connection; afterwards none went anywhere but loopback, and the key appears in no output.
"""

from __future__ import annotations

import json
import os
import secrets

import pytest

from narrative_fixtures.services.openai.fake import guard

REAL_LOOKING_KEY = "sk-proj-" + secrets.token_urlsafe(36)

WATCHING_CONFTEST = """
import json, os, sys
import pytest

EVENTS = []


def _watch(event, args):
    if event == "socket.connect":
        EVENTS.append(["connect", repr(args[1])])
    elif event == "socket.getaddrinfo":
        EVENTS.append(["lookup", str(args[0])])


sys.addaudithook(_watch)

import openai

# Built while conftest files load, before the plugin's guard exists: the user's real key, the real URL.
EARLY_CLIENT = openai.OpenAI(base_url="https://api.openai.com/v1")


@pytest.fixture
def early_client():
    return EARLY_CLIENT


def pytest_sessionfinish(session):
    with open("socket_events.json", "w") as out:
        json.dump(EVENTS, out)
"""

UNGUARDED_CALLS = """
import os, subprocess, sys
import openai
import pytest

HELLO = [{"role": "user", "content": "Hello"}]
REFUSED = "blocked a call to the real OpenAI API"


def test_a_default_client_is_refused_and_holds_no_real_key():
    client = openai.OpenAI()
    assert client.api_key == "sk-test-key-for-mocking"
    with pytest.raises(openai.PermissionDeniedError, match="openai_client fixture"):
        client.chat.completions.create(model="gpt-4", messages=HELLO)


@pytest.mark.asyncio
async def test_a_default_async_client_is_refused_without_retrying():
    async with openai.AsyncOpenAI() as client:
        with pytest.raises(openai.PermissionDeniedError, match=REFUSED) as refused:
            await client.chat.completions.create(model="gpt-4", messages=HELLO, stream=True)
    assert refused.value.response.headers["x-should-retry"] == "false"


def test_an_explicit_real_url_is_refused_before_any_connection():
    with openai.OpenAI(base_url="https://api.openai.com/v1", api_key=os.environ["OPENAI_API_KEY"]) as client:
        with pytest.raises(openai.PermissionDeniedError, match=REFUSED):
            client.models.list()


def test_a_client_built_before_the_run_with_the_real_key_is_refused(early_client):
    with pytest.raises(openai.PermissionDeniedError, match=REFUSED):
        early_client.chat.completions.create(model="gpt-4", messages=HELLO)


def test_azure_openai_is_refused():
    client = openai.AzureOpenAI(azure_endpoint="https://team.openai.azure.com", api_key="k", api_version="2024-06-01")
    with pytest.raises(openai.PermissionDeniedError, match=REFUSED):
        client.chat.completions.create(model="gpt-4", messages=HELLO)


def test_a_subprocess_of_the_code_under_test_is_refused_too():
    code = "import openai; openai.OpenAI().models.list()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and REFUSED in done.stderr and "openai_client fixture" in done.stderr
"""


def test_a_real_looking_key_is_never_used_and_nothing_leaves_the_machine(project):
    project.makeconftest(WATCHING_CONFTEST)
    project.makepyfile(test_unguarded=UNGUARDED_CALLS)
    project._monkeypatch.setenv("OPENAI_API_KEY", REAL_LOOKING_KEY)
    project._monkeypatch.setenv("OPENAI_ADMIN_KEY", REAL_LOOKING_KEY + "-admin")
    project._monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = project.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    events = json.loads((project.path / "socket_events.json").read_text())
    lookups = [host for kind, host in events if kind == "lookup"]
    connections = [address for kind, address in events if kind == "connect"]
    assert not [host for host in lookups if guard.is_real_openai(host)], lookups
    assert connections and all(address.startswith("('127.0.0.1'") for address in connections), connections
    output = result.stdout.str() + result.stderr.str()
    assert REAL_LOOKING_KEY not in output


def test_the_environment_comes_back_after_the_run(project, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", REAL_LOOKING_KEY)
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "Authorization: Bearer " + REAL_LOOKING_KEY)
    project.makepyfile(
        """
        import os

        def test_inside_the_run():
            assert os.environ["OPENAI_API_KEY"] == "sk-test-key-for-mocking"
            assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
            assert "OPENAI_CUSTOM_HEADERS" not in os.environ
        """
    )
    project.runpytest_inprocess().assert_outcomes(passed=1)
    assert os.environ["OPENAI_API_KEY"] == REAL_LOOKING_KEY
    assert os.environ["OPENAI_CUSTOM_HEADERS"].endswith(REAL_LOOKING_KEY)
    assert guard.installed(), "the outer run's guard is still in place"
    assert os.environ["OPENAI_BASE_URL"] == guard.guard_url()


@pytest.mark.parametrize(
    "url", ["https://api.openai.com/v1", "https://API.OpenAI.com./v1", "https://team.openai.azure.com/openai"]
)
def test_external_mode_refuses_the_real_api_in_one_line(project, url):
    project.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_uses_openai(openai_client):
            await openai_client.models.list()
        """
    )
    project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", url)
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TEST_OPENAI_BASE_URL=* is the real OpenAI API: tests never call it*"])
    assert "Traceback" not in result.stdout.str()


def test_the_guard_blocks_only_the_real_hosts():
    assert guard.is_real_openai("api.openai.com") and guard.is_real_openai("API.OPENAI.COM.")
    assert guard.is_real_openai("team.openai.azure.com") and guard.is_real_openai("openai.com")
    assert not guard.is_real_openai("127.0.0.1") and not guard.is_real_openai("notopenai.com")
    assert not guard.is_real_openai("openai.com.example.org") and not guard.is_real_openai(None)


def test_mocks_that_answer_before_the_network_still_answer():
    """An ``httpx.MockTransport`` (as pytest-httpx and respx users have) answers even for api.openai.com."""
    import httpx2
    import openai

    def answer(request):
        return httpx2.Response(200, json={"object": "list", "data": []})

    mocked = httpx2.Client(transport=httpx2.MockTransport(answer))
    with openai.OpenAI(base_url="https://api.openai.com/v1", api_key="sk-x", http_client=mocked) as client:
        assert client.models.list().data == []
    with openai.OpenAI(base_url="https://api.openai.com/v1", api_key="sk-x", max_retries=0) as client:
        with pytest.raises(openai.PermissionDeniedError, match="blocked a call to the real OpenAI API"):
            client.models.list()  # the same call through the real network stack is refused


FRESH_COPY = """
import sys
from narrative_fixtures.services.openai.fake import guard

saved = guard.install()
import httpx2                      # its httpcore2 comes along at once (same import epoch)
assert "httpcore2" in sys.modules
first = sys.modules["httpcore2"].AsyncConnectionPool
for name in [name for name in sys.modules if name.split(".")[0] in ("httpx2", "httpcore2")]:
    del sys.modules[name]          # what a nested in-process pytest run does to modules it imported
import httpcore2                   # a fresh copy
assert httpcore2.AsyncConnectionPool is not first
assert httpcore2.AsyncConnectionPool.handle_async_request._narrative_guard
assert httpcore2.ConnectionPool.handle_request._narrative_guard
guard.uninstall(saved)
assert not getattr(httpcore2.ConnectionPool.handle_request, "_narrative_guard", False)
print("ok")
"""


def test_a_fresh_copy_of_the_http_modules_is_guarded_too():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FRESH_COPY], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
