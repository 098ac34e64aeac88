"""The proof that a recorded server is ours: never a name, a pid or a port alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from narrative_fixtures.core.reuse import State, owned_server, problem, terminate


def record(pid: int, **more) -> dict:
    return {"pid": pid, "port": 1, "token": "t", "workdir": "/nonexistent", "url": "redis://:pw@127.0.0.1:1/0",
            **more}


def test_a_live_process_at_the_recorded_pid_is_not_ours_without_the_folder_and_the_port():
    assert "not the server that was recorded" in problem(record(os.getpid()))


def test_a_dead_pid_is_stale_and_terminating_its_record_signals_nobody_and_deletes_only_its_own_folder(tmp_path):
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(exited.stdout)
    assert "has exited" in problem(record(dead))
    folder, outside = tmp_path / "services-servers", tmp_path / "a-project"
    (folder / "redis-abc").mkdir(parents=True)
    outside.mkdir()
    (outside / "keep.txt").write_text("not the run's")
    assert terminate(record(os.getpid(), workdir=str(outside)), folder) is False  # a stranger: left alone
    assert (outside / "keep.txt").read_text() == "not the run's"  # a record naming another folder deletes nothing
    terminate(record(dead, workdir=str(folder / "redis-abc")), folder)
    assert not (folder / "redis-abc").exists() and folder.is_dir()


def test_owned_server_needs_a_live_record_with_the_same_host_port_and_password(tmp_path):
    state = State(tmp_path / "services.json")
    assert owned_server("redis://:pw@127.0.0.1:1/0", state) is False  # no state file
    state.path.write_text(json.dumps({"services": {"redis": record(os.getpid())}}))
    assert owned_server("redis://:pw@127.0.0.1:1/0", state) is False  # recorded, but not provably ours
    assert owned_server("redis://:other@127.0.0.1:1/0", state) is False
    assert owned_server(None, state) is False
