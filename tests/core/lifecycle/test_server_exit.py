"""The end of a run does not wait for work nobody needs: our server processes end without the interpreter's
finalization once they stop serving (their state is thrown away), and the shared servers' watchdog, told by the
controller that the servers are stopped, ends without importing the plugin."""

from __future__ import annotations

import signal
import subprocess
import sys

from narrative_fixtures.core.shared_servers import STOPPED, WATCHDOG

FINALIZED = "finalization ran"


def test_a_stopped_server_flushes_its_output_and_ends_with_its_code_without_finalizing():
    script = (
        "import atexit, sys\n"
        "from narrative_fixtures.core.signals import exit_without_finalizing\n"
        f"atexit.register(lambda: print({FINALIZED!r}))\n"
        "sys.stdout.write('served, no newline')\n"  # block-buffered on a pipe: only a flush shows it
        "sys.stderr.write('a last log line')\n"
        "exit_without_finalizing(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "served, no newline"
    assert done.stderr == "a last log line"


def test_the_s3_server_process_ends_on_sigterm_with_code_0_and_no_finalization(tmp_path):
    script = (
        "import atexit, runpy, sys\n"
        f"atexit.register(lambda: print({FINALIZED!r}, flush=True))\n"
        "sys.argv = ['server', '--port', '0']\n"
        "runpy.run_module('narrative_fixtures.services.s3.server', run_name='__main__')\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        line = server.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        _answered(line.split("listening on ", 1)[1].strip())  # serving: its SIGTERM handler is in place
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 0
    assert FINALIZED not in out


def _answered(url: str) -> None:
    """Wait until the server answers a request (any status): it is in its serving loop, as the provider's
    readiness check waits for before a stop can come."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=30).close()
    except urllib.error.HTTPError:
        pass  # an answer all the same


def _watchdog(stdin: bytes, state) -> str:
    """The watchdog's imports (``-X importtime``) when the controller's end of its pipe says ``stdin``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", WATCHDOG, str(state)], input=stdin,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stderr.decode()


def test_the_watchdog_of_a_controller_that_stopped_its_servers_ends_without_importing_the_plugin(tmp_path):
    state = tmp_path / "narrative-shared-p1-x" / "services.json"
    state.parent.mkdir()
    assert "narrative_fixtures" not in _watchdog(STOPPED, state)
    assert state.parent.is_dir()  # nothing done: the controller removed what was its own


def test_the_watchdog_of_a_controller_that_ended_otherwise_stops_the_runs_servers(tmp_path):
    state = tmp_path / "narrative-shared-p1-x" / "services.json"
    state.parent.mkdir()
    assert "narrative_fixtures.core.shared_servers" in _watchdog(b"", state)  # a pipe closed by a dying controller
    assert not state.parent.exists()  # stop_run ran: the run's folder is gone


class _Server:
    """A server whose serving loop records the SIGTERM handler in force and ends as Ctrl-C ends it."""

    def __init__(self):
        self.handler_while_serving = self.closed = None

    def serve_forever(self, poll_interval):
        self.handler_while_serving = signal.getsignal(signal.SIGTERM)
        raise KeyboardInterrupt

    def server_close(self):
        self.closed = True


def test_a_server_announces_itself_flushed_once_sigterm_is_handled_then_serves_and_closes(monkeypatch):
    import io

    from narrative_fixtures.core.signals import serve_until_stopped

    seen = []

    class Stdout(io.StringIO):
        def flush(self):  # what a parent reading the pipe would see now, and who handles SIGTERM then
            seen.append((self.getvalue(), signal.getsignal(signal.SIGTERM)))

    monkeypatch.setattr(sys, "stdout", Stdout())
    server = _Server()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert serve_until_stopped(server, "listening on 127.0.0.1:4242") == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen and seen[-1][0] == "listening on 127.0.0.1:4242\n"
    assert seen[-1][1] not in (signal.SIG_DFL, signal.SIG_IGN, previous)  # ours, before the line went out
    assert server.handler_while_serving is seen[-1][1] and server.closed
