"""The embedded S3 provider called directly: what its endpoint says, how its server is started, the readiness probe.

The paths the mutation run found unchecked (``start_embedded``'s endpoint fields, the region, PYTHONPATH, the
package root, ``_list_buckets_answered``, ``_identify``'s bounded wait).
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
from importlib.metadata import version
from pathlib import Path

import pytest

import narrative_fixtures
from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.s3.clients import EMBEDDED_CREDENTIALS
from narrative_fixtures.services.s3.factories import s3_server_factory
from narrative_fixtures.services.s3.janitor import bucket_name
from narrative_fixtures.services.s3.provider import ADDS, PROVIDER, _identify, _list_buckets_answered, _package_root

s3_server_eu = s3_server_factory("eu", region="eu-west-1", scope="module")


def _proc(pid: int, what: str) -> list[str]:
    return Path(f"/proc/{pid}/{what}").read_bytes().decode().split("\0")


def test_the_package_root_is_the_folder_holding_narrative_fixtures():
    assert _package_root() == str(Path(narrative_fixtures.__file__).resolve().parent.parent)


def test_an_embedded_endpoint_names_moto_its_version_the_keys_and_what_the_plugin_adds(s3_server_eu):
    endpoint = s3_server_eu
    assert (endpoint.service, endpoint.mode) == ("s3", "embedded")
    assert (endpoint.backend, endpoint.version) == ("moto S3 server", version("moto"))
    assert endpoint.url == f"http://127.0.0.1:{endpoint.port}"
    assert endpoint.credentials == EMBEDDED_CREDENTIALS and endpoint.adds == ADDS
    assert isinstance(endpoint.started_in, float) and endpoint.started_in > 0
    assert endpoint.details["pid"] == endpoint.pid and endpoint.details["adds"] == ADDS


def test_a_server_of_another_region_runs_with_that_region(s3_server_eu):
    assert s3_server_eu.region == "eu-west-1"
    command = _proc(s3_server_eu.pid, "cmdline")
    assert "narrative_fixtures.services.s3.server" in command
    assert command[command.index("--region") + 1] == "eu-west-1"
    assert command[command.index("--port") + 1] == str(s3_server_eu.port)


def test_the_server_finds_the_plugin_first_on_its_python_path_keeping_the_users(s3_server_eu):
    environment = dict(item.partition("=")[::2] for item in _proc(s3_server_eu.pid, "environ") if "=" in item)
    entries = environment["PYTHONPATH"].split(":")
    assert entries[0] == _package_root()


def test_the_servers_python_path_keeps_the_one_the_run_was_given(request, monkeypatch):
    # added to the run's own (a mutation run's path carries its hook, which the server needs too): the run's as its
    # context holds it (see tests/core/lifecycle/test_server_environment.py), whatever the test's os.environ says
    run_environment = registry_of(request.config).context.environment
    given = os.pathsep.join(["/opt/the-users-own-path", *filter(None, [run_environment.get("PYTHONPATH")])])
    monkeypatch.setitem(run_environment, "PYTHONPATH", given)
    monkeypatch.setenv("PYTHONPATH", "/not/the/runs")
    endpoint, process = _start(request, "pythonpath")
    try:
        environment = dict(item.partition("=")[::2] for item in _proc(endpoint.pid, "environ") if "=" in item)
        assert environment["PYTHONPATH"].split(os.pathsep) == [_package_root(), *given.split(os.pathsep)]
    finally:
        process.stop()


class _Settings(dict):
    """The run's settings with the S3 section replaced (``context.settings["s3"]`` is all start_embedded reads)."""


class _Context:
    """The run's provisioning context with other S3 settings; everything else is the run's."""

    def __init__(self, real, shared: bool = False, **s3) -> None:
        self._real = real
        self.shared = shared  # as when the server outlives the run (--reuse-services)
        self.settings = _Settings(s3={**{"bucket": real.settings["s3"]["bucket"]}, **s3})

    def __getattr__(self, name: str):
        return getattr(self._real, name)


def _start(request, name: str, argument: str | None = None, shared: bool = False, **s3):
    """Another server of the run (log ``s3-<name>.log``) with other S3 settings."""
    real = registry_of(request.config).context
    context = _Context(real, shared, **{"region": real.settings["s3"]["region"], **s3})
    return PROVIDER.start_embedded(context, argument, server=f"s3-{name}")


@pytest.mark.parametrize(
    ("configured", "expected"), [("ap-south-1", "ap-south-1"), ("", "us-east-1"), (None, "us-east-1")]
)
def test_without_a_region_argument_the_server_takes_the_setting_else_us_east_1(request, configured, expected):
    endpoint, process = _start(request, f"region-{configured}", region=configured)
    try:
        assert endpoint.region == expected
        command = _proc(endpoint.pid, "cmdline")
        assert command[command.index("--region") + 1] == expected
    finally:
        process.stop()


def test_a_server_that_outlives_the_run_gives_it_a_bucket_named_after_the_run(request):
    endpoint, process = _start(request, "shared", shared=True, bucket="test-shared")
    try:
        run_id = registry_of(request.config).context.run_id
        assert endpoint.bucket == bucket_name("test-shared", run_id) and run_id in endpoint.bucket
    finally:
        process.stop()


def test_the_run_s_own_server_has_this_workers_bucket_and_region(s3_service, request):
    registry = registry_of(request.config)
    context, config = registry.context, registry.context.settings["s3"]
    shared = context.shared or s3_service.reuse is not None  # reused, or the server the run's xdist workers share
    expected = bucket_name(config["bucket"], context.run_id if shared else None)  # then -<run id> in its name
    assert s3_service.bucket == expected and s3_service.region == config["region"]


# --- the readiness probe ----------------------------------------------------------------------------------------


def test_the_readiness_probe_sees_the_server_answer_list_buckets(s3_service):
    assert _list_buckets_answered(s3_service.port) is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readiness_probe_says_no_while_nothing_listens():
    assert _list_buckets_answered(_free_port()) is False


@pytest.fixture
def other_http_server():
    """A loopback HTTP server answering 200 to anything, but not an S3 bucket listing; yields its port."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>not S3</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_readiness_probe_is_not_fooled_by_another_http_server(other_http_server):
    assert _list_buckets_answered(other_http_server) is False


@pytest.fixture
def silent_listener():
    """A loopback port that accepts connections and never answers; yields the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock.getsockname()[1]


def test_the_readiness_probe_gives_up_on_a_server_that_never_answers(silent_listener):
    assert _list_buckets_answered(silent_listener) is False  # a bounded wait, not a hang of the start-up loop


def test_an_external_endpoint_that_never_answers_its_health_check_is_named_s3_compatible(silent_listener):
    # a bounded wait (the probe's own timeout): without one, connecting to such an endpoint would hang the run
    assert _identify(f"http://127.0.0.1:{silent_listener}") == ("S3-compatible endpoint", "")


def test_a_server_of_the_run_alone_gives_it_the_bucket_name_as_configured(request):
    endpoint, process = _start(request, "own", shared=False, bucket="test-own")
    try:
        run_id = registry_of(request.config).context.run_id
        assert endpoint.bucket == bucket_name("test-own", None) and run_id not in endpoint.bucket
    finally:
        process.stop()


def test_after_connecting_the_health_check_waits_what_is_left_of_its_bound_for_the_answer(s3_service, monkeypatch):
    from narrative_fixtures.services.s3.provider import _http_answer_problem
    from tests.bounded_waits import socket_waits

    with socket_waits(monkeypatch) as waits:
        assert _http_answer_problem(s3_service.url, 5.0) is None
    assert waits.timeouts[0] == 5.0  # connecting
    assert 0.01 < waits.timeouts[-1] <= 5.0  # the answer: the rest of the 5 s, not the 0.01 s floor
