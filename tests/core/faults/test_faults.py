"""Fault battery: every service under the faults a real run meets, each case bounded in time.

The matrix (service x fault) and where each cell is proved; the cells marked *here* are in this module:

=====================  ==========================  ==========================  ===========================  ==========================
fault                  redis                       mongodb (FerretDB)          s3 (moto server)             openai (in-process fake)
=====================  ==========================  ==========================  ===========================  ==========================
killed mid-run         test_redis_fixtures, *here* test_mongodb_fixtures,      *here*                       test_openai_fixtures
                       (others still pass)         *here*                                                   (stopped), *here*
port already taken     *here* (retries on another) *here*                      *here*                       n/a: kernel-chosen port 0
wrong password / key   test_redis_fixtures         test_mongodb_fixtures       test_s3_external (stub);     *here* (an external fake
                                                   (auth-enabled FerretDB)     moto checks no credentials   that answers 401)
malformed URI          test_redis_fixtures         test_mongodb_fixtures       *here*                       test_openai_fixtures
silent endpoint        test_redis_fixtures         *here*                      *here*                       *here*
SIGINT / SIGTERM       test_provisioning (redis    *here* (all four services   *here*                       *here*
                       alone), *here*              running at once)
=====================  ==========================  ==========================  ===========================  ==========================
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from narrative_fixtures.provisioning import ProvisionContext, port_accepts
from tests.mongodb_support import CACHE_DIR, MONGODB_VARIABLES, settings
from tests.core.server_records import pid_alive
from tests.terminal_signals import as_from_a_terminal

SERVICES = ("redis", "mongodb", "s3", "openai")

# One test per service, using the fixtures a user would, that passes when the service works.
USES = {
    "redis": """
@pytest.mark.asyncio
async def test_{prefix}_redis(redis_client):
    assert await redis_client.ping()
""",
    "mongodb": """
@pytest.mark.asyncio
async def test_{prefix}_mongodb(setup_database):
    assert await setup_database.command("ping")
""",
    "s3": """
def test_{prefix}_s3(s3_client, test_s3_bucket):
    s3_client.put_object(Bucket=test_s3_bucket, Key="k.txt", Body=b"x")
""",
    "openai": """
def test_{prefix}_openai(openai_server, openai_sync_client):
    openai_server.reply("hello")
    answer = openai_sync_client.chat.completions.create(model="gpt-4", messages=[{{"role": "user", "content": "hi"}}])
    assert answer.choices[0].message.content == "hello"
""",
}

HEADER = """
import os, signal, pytest
from narrative_fixtures.services.common import registry_of
"""


@pytest.fixture
def services_project(project):
    """The plain project of tests/conftest.py, able to start every embedded service (FerretDB from the cache)."""
    for variable in (*MONGODB_VARIABLES, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "TEST_S3_BUCKET"):
        project._monkeypatch.delenv(variable, raising=False)
    project._monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(CACHE_DIR))
    project._monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    return project


def _seconds(result) -> float:
    return float(result.stdout.lines[-1].split(" in ")[-1].split("s")[0])


# --- killed mid-run ------------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("victim", SERVICES)
def test_a_service_killed_mid_run_fails_its_next_test_in_one_line_and_the_others_pass(services_project, victim):
    """SIGKILL the server process (the in-process OpenAI fake: stop it); its next test fails at setup naming the log,
    the tests of the three other services still pass, and the run ends in seconds."""
    others = [name for name in SERVICES if name != victim]
    source = HEADER
    source += USES[victim].format(prefix="0_warm")  # start the victim, prove it works
    source += f"""
def test_1_kill(request):
    owned = registry_of(request.config).owned({victim!r})
    if getattr(owned, "pid", None):
        os.kill(owned.pid, signal.SIGKILL)
        owned.process.wait(timeout=10)  # dead before the next test starts (a big process takes a moment to go)
    else:
        owned.stop()
"""
    source += USES[victim].format(prefix="2_after")
    source += "".join(USES[name].format(prefix="3_other") for name in others)
    services_project.makepyfile(test_faults=source)
    result = services_project.runpytest_subprocess("-p", "no:randomly", "--timeout", "60", "-rA")
    print(f"{victim} killed: nested run took {_seconds(result):.1f} s")
    output = result.stdout.str()
    result.stdout.fnmatch_lines([f"PASSED test_faults.py::test_0_warm_{victim}", "PASSED test_faults.py::test_1_kill"])
    result.stdout.fnmatch_lines([f"{victim}: the *stopped*during the run*; log: */run-*/{victim}.log",
                                 f"ERROR test_faults.py::test_2_after_{victim} - *"])
    for name in others:
        assert f"PASSED test_faults.py::test_3_other_{name}" in output, f"{name} should not suffer from {victim}"
    setup = output.split(f"ERROR at setup of test_2_after_{victim}")[1].split("=====")[0]
    assert "Traceback" not in setup and "During handling" not in setup, "one clear line, not a chain"


# --- a port already taken ------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
@pytest.mark.parametrize("service", ["redis", "mongodb", "s3"])
def test_a_taken_port_makes_each_real_server_start_on_another(service, monkeypatch, tmp_path):
    """The first port offered is held by a listener that never answers: the real server fails to bind, says so in
    its log, and the provisioning starts it again on another port. (The OpenAI fake binds port 0: no race.)"""
    from narrative_fixtures.core import processes
    from narrative_fixtures.core.catalog import load_provider

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    offered = []
    real_free_port = processes.free_port

    def first_the_taken_port(*args):
        offered.append(taken if not offered else real_free_port(*args))
        return offered[-1]

    monkeypatch.setattr(processes, "free_port", first_the_taken_port)
    context = ProvisionContext(settings(services_log_dir=str(tmp_path)), "master")
    try:
        endpoint, server = load_provider(service).start_embedded(context)
        try:
            assert server.port != taken and server.alive() and f":{server.port}" in endpoint.url
            log = context.log_path(service).read_text().lower()
            assert "address already in use" in log, "the first attempt should have failed to bind"
            assert log.count(f"starting {service}") == 2
        finally:
            server.stop()
    finally:
        blocker.close()
    assert offered[0] == taken and len(offered) == 2
    assert not server.alive()


# --- wrong key -----------------------------------------------------------------------------------------------------


class _KeyChecking(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible server that, like the real API, answers 401 to a key it does not know."""

    def do_GET(self):
        if self.headers.get("authorization") == "Bearer sk-right-key":
            self.send_response(200)
            body = b'{"object":"list","data":[]}'
        else:
            self.send_response(401)
            body = b'{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}'
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.timeout(60)
def test_a_wrong_openai_key_is_a_one_line_error_naming_the_setting_and_never_shown(project):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeyChecking)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project.makepyfile(USES["openai"].format(prefix="1"))
        project._monkeypatch.setenv("TEST_OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
        project._monkeypatch.setenv("TEST_OPENAI_API_KEY", "sk-Wr0ng-Distinctive-Key")
        result = project.runpytest_inprocess("-rE")
        result.assert_outcomes(errors=1)  # a mistake is never skipped
        result.stdout.fnmatch_lines(["*the OpenAI fake at TEST_OPENAI_BASE_URL=http://127.0.0.1:*/v1 rejected the key"
                                     " in TEST_OPENAI_API_KEY (401)*"])
        assert "Wr0ng-Distinctive" not in result.stdout.str() + result.stderr.str()
    finally:
        server.shutdown()
        server.server_close()


# --- malformed URIs (S3; the others are in their own modules) -------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://key:Pa55word@localhost:notaport", "S3_ENDPOINT_URL=http://key:***@localhost:notaport is not a valid URL"),
        ("ftp://localhost:4566", "S3_ENDPOINT_URL=ftp://localhost:4566 is not an S3 endpoint URL"),
        ("localhost:4566", "S3_ENDPOINT_URL=localhost:4566 is not an S3 endpoint URL"),
        ("https://s3.eu-west-1.amazonaws.com", "is real AWS S3: set TEST_S3_ALLOW_AWS=1 to opt in"),
    ],
)
def test_a_malformed_s3_endpoint_fails_every_test_naming_the_setting(project, url, message):
    project.makepyfile(USES["s3"].format(prefix="1"))
    project._monkeypatch.setenv("S3_ENDPOINT_URL", url)
    result = project.runpytest_inprocess("-rE")  # not strict: a mistake is never skipped
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}*"])
    assert "Pa55word" not in result.stdout.str()


# --- an endpoint that accepts connections and never answers ---------------------------------------------------------


@contextmanager
def silent_endpoint() -> Iterator[int]:
    """A loopback port that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


SILENT = {
    "mongodb": ("TEST_MONGODB_URI", "mongodb://admin:Pa55word@127.0.0.1:{port}/", "cannot reach MongoDB at"
                " TEST_MONGODB_URI=mongodb://admin:***@127.0.0.1:*within 2 s*"),
    "s3": ("S3_ENDPOINT_URL", "http://127.0.0.1:{port}", "cannot reach S3 at S3_ENDPOINT_URL=http://127.0.0.1:*"),
    "openai": ("TEST_OPENAI_BASE_URL", "http://127.0.0.1:{port}/v1",
               "cannot reach the OpenAI fake at TEST_OPENAI_BASE_URL=http://127.0.0.1:*/v1*timed out*"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("service", sorted(SILENT))
def test_an_endpoint_that_never_answers_makes_the_service_unavailable_within_seconds(services_project, service):
    """Five tests of the service are skipped after one short probe (~2 s), not five times a client's timeout."""
    setting, template, message = SILENT[service]
    services_project.makepyfile("import pytest\n" + "".join(USES[service].format(prefix=f"{n}") for n in range(5)))
    with silent_endpoint() as port:
        services_project._monkeypatch.setenv(setting, template.format(port=port))
        began = time.perf_counter()
        result = services_project.runpytest_inprocess("-rs", "-p", "no:randomly")
        took = time.perf_counter() - began
    print(f"{service}: 5 tests against a silent endpoint skipped in {took:.2f} s")
    result.assert_outcomes(skipped=5)
    result.stdout.fnmatch_lines([f"SKIPPED [[]1[]] *{service} unavailable: {message}"])
    assert "Pa55word" not in result.stdout.str()


# --- SIGINT / SIGTERM while every embedded service runs -------------------------------------------------------------

RECORD_ALL = """
import json, os
from urllib.parse import urlsplit
import pytest
from narrative_fixtures.services.common import registry_of


@pytest.fixture
def record(request, redis_service, mongodb_service, s3_service, openai_service):
    registry = registry_of(request.config)
    entries = {}
    for endpoint in (redis_service, mongodb_service, s3_service, openai_service):
        owned = registry.owned(endpoint.service)
        entries[endpoint.service] = {
            "pid": getattr(owned, "pid", None),
            "workdir": str(getattr(owned, "workdir", None) or ""),
            "port": urlsplit(endpoint.url).port,
        }
    with open(os.environ["RECORD_TO"], "w") as out:
        json.dump(entries, out)
    return entries
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_no_service_process_port_or_temp_data(services_project, signum):
    record = services_project.path / "servers.json"
    services_project.makeconftest(RECORD_ALL)
    services_project.makepyfile("import time\ndef test_waits(record):\n    time.sleep(120)\n")
    env = {**os.environ, "RECORD_TO": str(record)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=services_project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=as_from_a_terminal,
    )
    try:
        deadline = time.monotonic() + 90
        while not (record.exists() and record.read_text().strip()):
            assert time.monotonic() < deadline and process.poll() is None, "the services never all started"
            time.sleep(0.05)
        servers = json.loads(record.read_text())
        assert set(servers) == set(SERVICES)
        processes = {name: entry for name, entry in servers.items() if entry["pid"]}
        assert set(processes) == {"redis", "mongodb", "s3"}, "three real server processes, one in-process fake"
        assert all(pid_alive(entry["pid"]) and Path(entry["workdir"]).is_dir() for entry in processes.values())
        began = time.perf_counter()
        process.send_signal(signum)
        output = process.communicate(timeout=30)[0].decode()
        print(f"{signal.Signals(signum).name}: pytest and its four services gone in {time.perf_counter() - began:.2f} s")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert "KeyboardInterrupt" in output or "Interrupted" in output, output[-2000:]
    deadline = time.monotonic() + 5  # stopped in order by pytest; at worst PR_SET_PDEATHSIG has them killed
    while any(entry["pid"] and pid_alive(entry["pid"]) for entry in servers.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for name, entry in servers.items():
        if entry["pid"]:
            assert not pid_alive(entry["pid"]), f"{name} (pid {entry['pid']}) outlived the run"
            assert not Path(entry["workdir"]).exists(), f"{name} left its temp directory {entry['workdir']}"
        assert not port_accepts("127.0.0.1", entry["port"], timeout=0.2), f"{name} still listens on {entry['port']}"
