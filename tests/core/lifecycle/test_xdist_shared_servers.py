"""Under pytest-xdist the run's workers share one embedded server per service (core.shared_servers): one process
for the whole run, each worker kept apart on it, nothing left after the run, even when its controller is SIGKILLed."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.core.server_records import pid_alive
from tests.mongodb_support import point_nested_runs_at

# Two groups of tests, "a" and "b", one per worker. Group "a" writes a key and waits for group "b" to have looked for
# it on its own worker: the isolation is checked while both run. With pytest 9.2 the xdist_group marks are ignored
# (pytest-xdist#1386), and xdist's first batch, sent round-robin, alternates a and b; the assertions below check
# that each service was used by both workers, so another split fails rather than passes.
SHARING = """
import json, os, time
from pathlib import Path
import pytest

def _record(service, endpoint, where):
    with open(f"seen-{os.environ['PYTEST_XDIST_WORKER']}.jsonl", "a") as out:
        out.write(json.dumps({"worker": os.environ["PYTEST_XDIST_WORKER"], "service": service,
                              "pid": getattr(endpoint, "pid", None), "where": where}) + "\\n")

def _wait_for(name):
    deadline = time.monotonic() + 60
    while not Path(name).exists():
        assert time.monotonic() < deadline, f"the other worker never wrote {name}"
        time.sleep(0.05)

@pytest.mark.xdist_group("a")
@pytest.mark.asyncio
async def test_a_writes(redis_service, redis_client, mongodb_service, setup_database):
    try:
        await redis_client.set("written-by-a", "x")
        await setup_database.things.insert_one({"by": "a"})
    finally:
        Path("a-wrote").touch()
    _wait_for("b-looked")
    _record("redis", redis_service, redis_service.url.rsplit("/", 1)[1])
    _record("mongodb", mongodb_service, setup_database.name)

@pytest.mark.xdist_group("b")
@pytest.mark.asyncio
async def test_b_does_not_see_it(redis_service, redis_client, mongodb_service, setup_database):
    _wait_for("a-wrote")
    try:
        assert await redis_client.get("written-by-a") is None and await redis_client.dbsize() == 0
        assert await setup_database.things.count_documents({}) == 0
    finally:
        Path("b-looked").touch()
    _record("redis", redis_service, redis_service.url.rsplit("/", 1)[1])
    _record("mongodb", mongodb_service, setup_database.name)

@pytest.mark.xdist_group("a")
def test_a_bucket(s3_service, s3_client, test_s3_bucket):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
    s3_client.put_object(Bucket=test_s3_bucket, Key="k", Body=b"x")
    _record("s3", s3_service, test_s3_bucket)

@pytest.mark.xdist_group("b")
def test_b_bucket(s3_service, s3_client, test_s3_bucket):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
    s3_client.put_object(Bucket=test_s3_bucket, Key="k", Body=b"x")
    _record("s3", s3_service, test_s3_bucket)
"""

# Both workers take a Redis, say so, then hang until the controller is killed under them.
HANGING = """
import os, time
from pathlib import Path
import pytest

@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.xdist_group(g)) for g in "ab"])
def test_hangs(redis_service, group):
    Path(f"up-{os.environ['PYTEST_XDIST_WORKER']}").write_text(str(redis_service.pid))
    time.sleep(600)
"""

ONLY_REDIS = """
import os
import pytest

@pytest.mark.xdist_group("a")
def test_one(redis_service):
    with open(f"pid-{os.environ['PYTEST_XDIST_WORKER']}", "w") as out:
        out.write(str(redis_service.pid))

@pytest.mark.xdist_group("b")
def test_two(redis_service):
    with open(f"pid-{os.environ['PYTEST_XDIST_WORKER']}", "w") as out:
        out.write(str(redis_service.pid))
"""


def servers_under(folder: Path) -> list[psutil.Process]:
    """The live processes working in ``folder`` (the nested run's temp root: its servers' work folders are there)."""
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        if (process.info.get("cwd") or "").startswith(str(folder)) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:g} s")
        time.sleep(0.1)


@pytest.fixture
def temp_root(project: pytest.Pytester) -> Path:
    """The nested run's temp root (TMPDIR): its shared folder and every server's work folder are made there."""
    root = project.path.parent / f"{project.path.name}-tmp"
    root.mkdir()
    project._monkeypatch.setenv("TMPDIR", str(root))
    yield root
    for process in servers_under(root):  # never leave a server behind, even when the plugin is broken
        process.kill()


@pytest.mark.timeout(300)
def test_the_workers_share_one_server_per_service_each_kept_apart_and_none_is_left(project, temp_root):
    point_nested_runs_at(project)
    project.makepyfile(test_sharing=SHARING)

    result = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--dist", "loadgroup", "--require-services")

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*redis: mode=embedded (default), redis-server*, shared by the 2 xdist workers"])
    seen = [json.loads(line) for path in project.path.glob("seen-gw*.jsonl") for line in path.read_text().splitlines()]
    for service in ("redis", "mongodb", "s3"):
        entries = [entry for entry in seen if entry["service"] == service]
        assert {entry["worker"] for entry in entries} == {"gw0", "gw1"}, entries
        assert len({entry["pid"] for entry in entries}) == 1 and entries[0]["pid"], f"{service}: {entries}"
        assert len({entry["where"] for entry in entries}) == 2, f"{service}: two workers on one target: {entries}"
    assert all(not pid_alive(entry["pid"]) for entry in seen), "a shared server outlived the run"
    assert not servers_under(temp_root) and not list(temp_root.glob("narrative-shared-*"))


@pytest.mark.timeout(240)
def test_a_run_selecting_only_redis_starts_only_redis_and_the_opt_out_gives_each_worker_its_own(project, temp_root):
    project.makepyfile(test_redis=ONLY_REDIS)

    shared = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--dist", "loadgroup")

    shared.assert_outcomes(passed=2)
    logs = {path.name for path in project.path.glob("reports/services/run-*/*.log")}
    assert logs == {"redis.log"}, logs  # one server, no S3 or MongoDB started (the OpenAI fake is never asked)
    assert len({path.read_text() for path in project.path.glob("pid-gw*")}) == 1
    own = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--dist", "loadgroup",
                                       "--xdist-shared-servers=no")
    own.assert_outcomes(passed=2)
    assert "shared by" not in own.stdout.str()
    assert len({path.read_text() for path in project.path.glob("pid-gw*")}) == 2, "sharing off: a server per worker"


def test_a_bad_value_is_one_line(project):
    project.makepyfile(test_redis=ONLY_REDIS)

    result = project.runpytest_subprocess("-n", "2", "--xdist-shared-servers=sometimes")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line] == [
        "ERROR: --xdist-shared-servers='sometimes' is not a yes/no value (1, true, yes, on / 0, false, no, off)"
    ]


@pytest.mark.timeout(240)
def test_a_sigkilled_controller_leaves_no_server_behind(project, temp_root):
    project.makepyfile(test_hangs=HANGING)
    run = project.popen([sys.executable, "-m", "pytest", "-p", "no:randomly", "-n", "2", "--dist", "loadgroup"],
                        stdout=open(project.path / "out.txt", "wb"), stderr=open(project.path / "err.txt", "wb"))
    try:
        wait_until(lambda: len(list(project.path.glob("up-gw*"))) == 2, 120, "both workers did not start their tests")
        pids = {path.read_text() for path in project.path.glob("up-gw*")}
        assert len(pids) == 1, pids  # both workers on the one server
        assert len(servers_under(temp_root)) == 1
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        wait_until(lambda: not servers_under(temp_root), 60, "the shared server was not stopped")
        wait_until(lambda: not list(temp_root.glob("narrative-shared-*")), 30, "the run's folder was not removed")
    finally:
        if run.poll() is None:
            run.kill()


def test_a_dead_runs_folder_is_never_attached_to_and_its_servers_are_stopped(project, temp_root):
    """A dead controller whose watchdog failed too: its folder is not this run's; its server, still provably its
    own, is stopped, and a stranger now at a recorded pid is left alone."""
    import os
    import subprocess

    from narrative_fixtures.core.reuse import STATE_ENV, State

    dead = psutil.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = State(temp_root / f"narrative-shared-p{dead.pid}-stale" / "services.json")
    state.path.parent.mkdir()
    subprocess.run([sys.executable, "-m", "narrative_fixtures.cli", "up", "redis"], check=True, capture_output=True,
                   env={**os.environ, STATE_ENV: str(state.path)}, timeout=120)
    left = int(state.read()["redis"]["pid"])
    stranger = psutil.Process()  # alive, but no server of that run: its pid alone proves nothing
    with state.locked() as records:
        records["s3"] = {"pid": stranger.pid, "port": 1, "token": "t", "workdir": "/nonexistent"}
    project.makepyfile(test_redis=ONLY_REDIS)

    result = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--dist", "loadgroup")

    result.assert_outcomes(passed=2)
    assert str(left) not in {path.read_text() for path in project.path.glob("pid-gw*")}  # never attached to
    assert not pid_alive(left) and not state.path.parent.exists() and stranger.is_running()


def test_a_stopped_server_whose_parent_has_not_reaped_it_counts_as_ended():
    """A shared server's parent is the worker that spawned it, which may still be exiting when the controller stops
    the server: the zombie it leaves holds no port, so the stop does not wait for the worker."""
    import subprocess
    import sys

    import psutil

    from narrative_fixtures.core.reuse import _ended

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not _ended(child.pid, 0.05)  # alive: not ended within its bound
        child.kill()
        assert _ended(child.pid, 30)
        assert psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE  # it really was a zombie, not yet reaped
    finally:
        child.kill()
        child.wait()
    assert _ended(child.pid, 0.05)  # reaped: gone
