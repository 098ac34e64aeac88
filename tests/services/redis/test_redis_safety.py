"""Sentinels for an external Redis database: an application or a second run writing into it never loses a key.

Each test writes foreign data (or runs a second pytest) against a database of a redis-server of this module's own,
runs the plugin, then counts exactly what survived. The runs under test are pytest subprocesses, so the writer in
this process is a client they do not own (the application under test runs inside the run's own process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from narrative_fixtures.config import all_settings
from tests.conftest import PLAIN_INI

FOREIGN_KEYS = 117


@pytest.fixture(scope="module")
def redis_server_url(tmp_path_factory):
    """``redis://:<password>@127.0.0.1:<port>`` of a redis-server of this module's own (no database yet)."""
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.redis import PROVIDER

    logs = tmp_path_factory.mktemp("logs")
    settings = cfg.resolve({}, {}, {"services_log_dir": str(logs)}, Path("/"))
    endpoint, server = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint.url.rsplit("/", 1)[0]
    server.stop()


def run_env(url: str, flags: Path, **extra: str) -> dict[str, str]:
    """The environment of a pytest subprocess pointed at ``url``, with every other plugin setting cleared."""
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_XDIST_WORKER"}
    for _service, setting in all_settings():
        if setting.env:
            env.pop(setting.env, None)
    env.update(TEST_REDIS_URL=url, FLAGS=str(flags), **extra)
    return env


def start_run(path: Path, module: str, env: dict[str, str]) -> subprocess.Popen:
    """A pytest run of ``module`` (a file in ``path``) in a subprocess, its output captured."""
    (path / "pytest.ini").write_text(PLAIN_INI)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--timeout", "60", module],
        cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_for(flag: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not flag.exists():
        assert time.monotonic() < deadline, f"{flag.name} never appeared"
        time.sleep(0.01)


def idle_client(url: str) -> redis.Redis:
    """A client of the database that emptied it and holds no connection now (an idle one would be a foreign
    client connected to the run's database, and the run would rightly refuse to start)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    client.connection_pool.disconnect()
    return client


def keys_matching(client: redis.Redis, pattern: str) -> int:
    return sum(1 for _ in client.scan_iter(pattern, count=1000))


APP_WRITES_DURING_A_TEST = """
import asyncio, os, pathlib, pytest

FLAGS = pathlib.Path(os.environ["FLAGS"])

@pytest.mark.asyncio
async def test_1_while_the_app_writes(redis_client):
    await redis_client.set("run:own", "x")
    (FLAGS / "in-test").touch()
    while not (FLAGS / "app-wrote").exists():
        await asyncio.sleep(0.01)

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_later(redis_client, n):
    await redis_client.set(f"run:{n}", n)
"""


@pytest.mark.timeout(90)
def test_an_application_writing_into_the_database_during_the_run_keeps_every_key(pytester, redis_server_url):
    url = f"{redis_server_url}/6"
    app = idle_client(url)
    flags = pytester.mkdir("flags")
    pytester.makepyfile(test_app=APP_WRITES_DURING_A_TEST)
    run = start_run(pytester.path, "test_app.py", run_env(url, flags))
    try:
        wait_for(flags / "in-test")
        for n in range(FOREIGN_KEYS):  # the application, connected to the same database during the run
            app.set(f"customer:{n}", f"order {n}")
        (flags / "app-wrote").touch()
        output, _ = run.communicate(timeout=60)
        assert keys_matching(app, "customer:*") == FOREIGN_KEYS, output
        assert "ERROR at teardown of test_1_while_the_app_writes" in output, output
        refusal = [line for line in output.splitlines() if "not flushed" in line]
        assert refusal and all("TEST_REDIS_URL=redis://:***@127.0.0.1:" in line and "db 6" in line for line in refusal)
        assert "a client this run does not own is connected" in refusal[0]
        assert "Traceback" not in output and "During handling" not in output
    finally:
        run.kill()
        app.flushdb()
        app.close()


HOLDER = """
import asyncio, os, pathlib, pytest

FLAGS = pathlib.Path(os.environ["FLAGS"])

@pytest.mark.asyncio
async def test_first_run_keeps_its_data(redis_client):
    (FLAGS / "a-ready").touch()
    while not ((FLAGS / "b-in-test").exists() or (FLAGS / "b-done").exists()):
        await asyncio.sleep(0.01)
    for n in range(20):
        await redis_client.set(f"first-run:{n}", n)
    (FLAGS / "a-wrote").touch()
    while not (FLAGS / "b-done").exists():
        await asyncio.sleep(0.01)
    assert sorted(await redis_client.keys("*")) == sorted(f"first-run:{n}" for n in range(20))
"""

SECOND = """
import asyncio, os, pathlib, time, pytest

FLAGS = pathlib.Path(os.environ["FLAGS"])

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_second_run(redis_client, n):
    (FLAGS / "b-in-test").touch()
    deadline = time.monotonic() + 5
    while not (FLAGS / "a-wrote").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await redis_client.set(f"second-run:{n}", n)
"""


@pytest.mark.timeout(90)
def test_a_second_run_against_the_same_database_is_refused_and_the_first_runs_data_is_untouched(
    pytester, redis_server_url
):
    url = f"{redis_server_url}/4"
    owner = idle_client(url)
    flags = pytester.mkdir("flags")
    pytester.makepyfile(test_holder=HOLDER, test_second=SECOND)
    first = start_run(pytester.path, "test_holder.py", run_env(url, flags))
    try:
        wait_for(flags / "a-ready")
        second = start_run(pytester.path, "test_second.py", run_env(url, flags))
        second_output, _ = second.communicate(timeout=60)
        (flags / "b-done").touch()
        first_output, _ = first.communicate(timeout=60)
        assert "1 passed" in first_output, first_output  # its 20 keys were all there after the second run
        assert "3 errors" in second_output and "passed" not in second_output, second_output
        lines = second_output.splitlines()
        refusals = [line for line in lines if line.startswith("redis db 4") and "in use by run" in line]
        assert len(refusals) == 3, second_output
        assert f"pid {first.pid} on" in refusals[0] and "TEST_REDIS_URL=redis://:***@127.0.0.1:" in refusals[0]
        assert "db 4" in refusals[0] and "dedicated to one run" in refusals[0]
        assert owner.dbsize() == 0, "the first run cleaned up after itself"
    finally:
        first.kill()
        owner.flushdb()
        owner.close()


PAUSED = """
import os, pathlib, time, pytest

FLAGS = pathlib.Path(os.environ["FLAGS"])

@pytest.mark.asyncio
async def test_holds_the_database(redis_client):
    (FLAGS / "a-ready").touch()
    time.sleep(60)
"""

PLAIN = """
import pytest

@pytest.mark.asyncio
async def test_uses_the_database(redis_client):
    assert await redis_client.dbsize() == 0
    await redis_client.set("k", "v")
"""


@pytest.mark.timeout(90)
def test_a_frozen_run_keeps_its_claim_and_a_killed_run_releases_it(pytester, redis_server_url):
    url = f"{redis_server_url}/3"
    watcher = idle_client(url)
    flags = pytester.mkdir("flags")
    pytester.makepyfile(test_paused=PAUSED, test_plain=PLAIN)
    first = start_run(pytester.path, "test_paused.py", run_env(url, flags))
    try:
        wait_for(flags / "a-ready")
        first.send_signal(signal.SIGSTOP)
        frozen = start_run(pytester.path, "test_plain.py", run_env(url, flags)).communicate(timeout=60)[0]
        assert "1 error" in frozen and f"in use by run" in frozen and f"pid {first.pid} on" in frozen, frozen
        first.kill()
        first.wait(timeout=10)
        after = start_run(pytester.path, "test_plain.py", run_env(url, flags)).communicate(timeout=60)[0]
        assert "1 passed" in after, after
        assert watcher.dbsize() == 0  # the frozen run's keys: none (it had written none)
    finally:
        first.kill()
        watcher.flushdb()
        watcher.close()


def test_a_test_that_flushes_the_database_itself_keeps_working_and_the_claim_is_released(
    pytester, redis_server_url
):
    url = f"{redis_server_url}/2"
    watcher = idle_client(url)
    pytester.makepyfile(
        test_flushes="""
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(3))
        async def test_flushes(redis_client, n):
            await redis_client.set("k", n)
            await redis_client.flushdb()
            await redis_client.set("after", n)
            assert await redis_client.keys("*") == ["after"], "the claim leaves no key to see"
        """
    )
    output = start_run(pytester.path, "test_flushes.py", run_env(url, pytester.path)).communicate(timeout=60)[0]
    try:
        assert "3 passed" in output, output
        assert watcher.dbsize() == 0
        names = [client.get("name", "") for client in watcher.client_list()]
        assert not [name for name in names if name.startswith("narrative")], "the claim ended with the run"
    finally:
        watcher.flushdb()
        watcher.close()


def test_an_xdist_run_claims_one_database_per_worker_and_passes(pytester, redis_server_url):
    url = f"{redis_server_url}/8"
    pytester.makepyfile(
        test_workers="""
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", range(8))
        async def test_worker(redis_client, n):
            assert await redis_client.dbsize() == 0
            await redis_client.set(f"k{n}", n)
        """
    )
    env = run_env(url, pytester.path)
    (pytester.path / "pytest.ini").write_text(PLAIN_INI)
    output = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2", "test_workers.py"],
        cwd=pytester.path, env=env, capture_output=True, text=True, timeout=120,
    ).stdout
    assert "8 passed" in output, output


def test_a_client_of_a_subprocess_the_test_started_counts_as_the_runs(pytester, redis_server_url):
    """A worker process the test starts (the backend's job runner) is part of the run, not a foreign writer."""
    url = f"{redis_server_url}/11"
    pytester.makepyfile(
        test_worker_process=f"""
        import subprocess, sys, pytest

        WORKER = (
            "import redis, sys, time; c = redis.Redis.from_url(sys.argv[1]); c.set('job:done', 1);"
            " print('up', flush=True); time.sleep(30)"
        )

        @pytest.fixture
        def job_runner():
            runner = subprocess.Popen([sys.executable, "-c", WORKER, {url!r}], stdout=subprocess.PIPE, text=True)
            yield runner  # set up before redis_client, so still connected during its teardown check
            runner.kill()
            runner.wait()

        @pytest.mark.asyncio
        async def test_job_runner_in_a_subprocess(job_runner, redis_client):
            assert job_runner.stdout.readline().strip() == "up"
            assert await redis_client.get("job:done") == "1"
        """
    )
    output = start_run(pytester.path, "test_worker_process.py", run_env(url, pytester.path)).communicate(timeout=60)[0]
    assert "1 passed" in output and "error" not in output, output


APP_CLIENT_IN_THE_TEST = """
import os, pytest, redis.asyncio

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_the_app_uses_its_own_client(redis_client, n):
    app = redis.asyncio.Redis.from_url(os.environ["APP_REDIS_URL"])  # the backend's own client, unnamed
    await app.set(f"app:{n}", n)
    assert await redis_client.keys("*") == [f"app:{n}"]
    test_the_app_uses_its_own_client.app = app  # still connected when the fixture checks who uses the database
"""


class PortForward:
    """A TCP forwarder (a container's port mapping): the server sees the forwarder's addresses, not the client's."""

    def __init__(self, target_port: int) -> None:
        import socket

        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                incoming, _ = self.listener.accept()
            except OSError:
                return
            outgoing = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        import socket

        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):  # shutdown first: a close alone waits for the other pump's blocked recv
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("through", ["direct", "port-mapped"])
def test_the_applications_own_client_in_the_test_process_is_the_runs_and_a_stranger_is_not(
    pytester, redis_server_url, through
):
    """Direct: the server sees this process's own addresses. Port-mapped: it sees the forwarder's; connections are
    then counted. Either way the run's own unnamed client is the run's, and one more client is a stranger."""
    from urllib.parse import urlsplit

    port = urlsplit(redis_server_url).port
    forward = PortForward(port) if through == "port-mapped" else None
    url = f"{redis_server_url}/13".replace(f":{port}", f":{forward.port}") if forward else f"{redis_server_url}/13"
    pytester.makepyfile(test_app_client=APP_CLIENT_IN_THE_TEST)
    env = run_env(url, pytester.path, APP_REDIS_URL=url)
    stranger = redis.Redis.from_url(f"{redis_server_url}/13", decode_responses=True)
    try:
        passed = start_run(pytester.path, "test_app_client.py", env).communicate(timeout=60)[0]
        assert "3 passed" in passed and "error" not in passed, passed
        stranger.set("customer:1", "precious")
        stranger.delete("customer:1")  # the stranger stays connected, its database looks empty
        refused = start_run(pytester.path, "test_app_client.py", env).communicate(timeout=60)[0]
        assert "3 errors" in refused and "passed" not in refused, refused  # refused at the claim, before a write
        assert "a client this run does not own is connected to it" in refused
        assert stranger.dbsize() == 0, "nothing of the run was written next to the stranger"
    finally:
        if forward:
            forward.close()
        stranger.close()
        idle_client(f"{redis_server_url}/13").close()
