"""``narrative-services up`` then ``pytest --reuse-services`` in another project: no server start, the header says
reused, tests isolated (per xdist worker too), ``down`` leaves no process; stale records are replaced."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from narrative_fixtures.core.reuse import problem

ISOLATION_TESTS = """
import pytest

@pytest.mark.parametrize("round", range(4))
async def test_redis_starts_empty(redis_client, round):
    assert await redis_client.dbsize() == 0
    await redis_client.set(f"written-{round}", "x")

@pytest.mark.parametrize("round", range(2))
def test_bucket_starts_empty(s3_client, test_s3_bucket, round):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket).get("KeyCount", 0) == 0
    s3_client.put_object(Bucket=test_s3_bucket, Key=f"k{round}", Body=b"x")

@pytest.mark.parametrize("round", range(2))
async def test_database_starts_empty(setup_database, round):
    assert await setup_database["things"].count_documents({}) == 0
    await setup_database["things"].insert_one({"round": round})

def test_the_janitor_reads_the_reused_server_s_store(request, mongodb_service):
    from narrative_fixtures.services.mongodb.factories import _store
    assert _store(request, mongodb_service) is not None  # up's FerretDB: its command line names its store
"""

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


def apply(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for key, value in variables.items():
        monkeypatch.setenv(key, value)


def test_up_env_then_a_reusing_run_starts_no_server_and_down_leaves_no_process(project, services, monkeypatch):
    started = services("up", "mongodb", "redis", "s3")
    assert "started in" in started.stdout and "eval" in started.stdout
    pids = services.pids()
    assert set(pids) == {"mongodb", "redis", "s3"} and len(services.servers()) == 3
    variables = services.variables("env")
    assert variables["TEST_SERVICES_REUSE"] == "1" and variables["REDIS_URL"] == variables["TEST_REDIS_URL"]
    assert variables["AWS_ACCESS_KEY_ID"] and variables["AWS_ACCESS_KEY_ID"] != "***"
    apply(monkeypatch, variables)
    project.makeini(INI)
    project.makepyfile(test_isolation=ISOLATION_TESTS)

    result = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--reuse-services", timeout=300)

    result.assert_outcomes(passed=9)
    header = result.stdout.str()
    assert "redis: mode=embedded (TEST_REDIS_URL is narrative-services up's server)" in header
    assert f"reused: pid {pids['redis']} from narrative-services up" in header
    assert header.count("reused: a server narrative-services recorded") >= 3  # one line per worker and service
    assert services.pids() == pids and len(services.servers()) == 3  # the run started no server of its own
    assert variables["TEST_REDIS_URL"].split("@")[0] not in header.replace("redis://:***", "")  # password masked

    services("down")
    assert not services.servers()
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids.values())
    assert services("status", check=False).returncode == 1


def test_a_reusing_run_with_none_running_starts_them_and_leaves_them_up(project, services):
    project.makeini(INI)
    project.makepyfile(test_one="import pytest\n@pytest.mark.parametrize('n', range(2))\n"
                                "async def test_one(redis_client, n):\n    await redis_client.set('a', 'b')\n")

    first = project.runpytest_subprocess("-p", "no:randomly", "-n", "2", "--reuse-services", timeout=300)

    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*redis: mode=embedded*reuse on: started at first use, left running*"])
    assert "left running for reuse" in first.stdout.str()
    assert len(services.servers()) == 1  # two workers, one server: the second found the first's record
    pid = services.pids()["redis"]
    assert problem(services.state.read()["redis"]) is None  # still running after the run ended
    second = project.runpytest_subprocess("-p", "no:randomly", "--reuse-services", timeout=300)
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines([f"*reused: pid {pid} from narrative-services up*"])
    assert services.pids()["redis"] == pid


def test_a_killed_reused_server_is_detected_and_replaced(project, services):
    services("up", "redis")
    killed = services.pids()["redis"]
    os.kill(killed, signal.SIGKILL)
    psutil.Process(killed).wait(10) if psutil.pid_exists(killed) else None
    assert "stale record" in services("status", check=False).stdout
    project.makeini(INI)
    project.makepyfile(test_one="async def test_one(redis_client):\n    assert await redis_client.dbsize() == 0\n")

    result = project.runpytest_subprocess("-p", "no:randomly", "--reuse-services", timeout=300)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*the recorded server is gone (its process * has exited)*", "*left running for reuse*"])
    replaced = services.pids()["redis"]
    assert replaced != killed and problem(services.state.read()["redis"]) is None


def test_a_stale_state_file_is_replaced_and_a_stranger_at_its_pid_is_left_alone(services, tmp_path):
    stranger = os.getpid()  # alive, but not a server up started: its pid alone proves nothing
    services.state.path.parent.mkdir(parents=True, exist_ok=True)
    services.state.path.write_text(
        '{"services": {"redis": {"pid": %d, "port": 1, "token": "t", "secret": "s", "workdir": "/nonexistent",'
        ' "url": "redis://:s@127.0.0.1:1/0"}}}' % stranger
    )
    assert "not the server that was recorded" in services("status", check=False).stdout

    started = services("up", "redis", cwd=tmp_path)

    assert "replaced a stale record (process" in started.stdout
    assert not list(tmp_path.iterdir())  # nothing written where the command ran: logs are beside the state file
    assert psutil.pid_exists(stranger) and services.pids()["redis"] != stranger
    assert "running, pid" in services("status").stdout


def test_env_as_dotenv_and_status_never_show_the_password(services):
    services("up", "redis")
    password = services.state.read()["redis"]["secret"]
    dotenv = services("env", "--format", "dotenv").stdout
    assert dotenv.startswith("TEST_SERVICES_REUSE=1\n") and "export" not in dotenv and password in dotenv
    assert password not in services("status").stdout
    assert password not in services("up", "redis").stdout  # already running: found, not started again
    assert oct(services.state.path.stat().st_mode & 0o777) == "0o600"


def test_unknown_service_is_one_line(services):
    done = services("up", "nosuch", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "unknown service nosuch" in done.stderr


def test_external_mode_on_a_server_up_started_cleans_it_without_allow_flush(project, services, monkeypatch):
    import redis

    services("up", "redis")
    variables = services.variables("env", "redis")
    with redis.Redis.from_url(variables["REDIS_URL"]) as client:
        client.set("left-by-a-killed-run", "x")
    monkeypatch.setenv("TEST_REDIS_URL", variables["TEST_REDIS_URL"])  # no reuse: external mode, its safety rules
    project.makeini(INI)
    project.makepyfile(test_one="async def test_one(redis_client):\n    assert await redis_client.dbsize() == 0\n")

    result = project.runpytest_subprocess("-p", "no:randomly", timeout=300)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*redis: mode=external (env TEST_REDIS_URL is set)*"])


def test_the_fake_openai_up_starts_answers_an_app_at_openai_base_url(services):
    import json
    import urllib.request

    services("up", "openai")
    variables = services.variables("env", "openai")
    request = urllib.request.Request(f"{variables['OPENAI_BASE_URL']}/models",
                                     headers={"Authorization": f"Bearer {variables['OPENAI_API_KEY']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and json.loads(response.read())["object"] == "list"
