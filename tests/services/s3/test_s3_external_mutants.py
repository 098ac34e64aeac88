"""External mode and the health probe called directly: what the mutation run found unchecked in ``connect_external``
(the service name, the region setting, a refused port said at once, every rejected-credentials code), ``_identify``
(LocalStack's answer missing fields, a proxy never used for loopback) and ``_http_answer_problem`` (https)."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.provisioning import ProvisionContext
from narrative_fixtures.services.s3 import PROVIDER
from narrative_fixtures.services.s3.provider import _http_answer_problem
from tests.services.s3.test_s3_external import LIST_BUCKETS, RUN_ID, _stand_in

LOCALSTACK = {"edition": "community", "version": "3.8.1"}


@pytest.fixture
def external(tmp_path):
    """Connects the provider (external mode) to a stand-in answering ``status``/``body``; ``env`` adds settings."""
    servers = []

    def connect_to(status: int = 200, body: bytes = LIST_BUCKETS, health: dict | None = None, url=None, **env):
        if url is None:
            server = _stand_in(status, body, health)
            servers.append(server)
            url = server.url
        settings = cfg.resolve({}, {"S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "k", **env}, {}, Path(tmp_path))
        return PROVIDER.connect_external(settings["s3"], ProvisionContext(settings, "master", RUN_ID))

    yield connect_to
    for server in servers:
        server.stop()


def test_an_external_endpoint_is_the_s3_service_in_the_configured_region(external):
    endpoint = external(health=LOCALSTACK, AWS_DEFAULT_REGION="eu-central-1", AWS_SECRET_ACCESS_KEY="s")
    assert (endpoint.service, endpoint.region, endpoint.aws) == ("s3", "eu-central-1", False)
    assert endpoint.credentials == ("k", "s")


def test_an_empty_region_setting_means_us_east_1(external):
    assert external(health=LOCALSTACK, AWS_DEFAULT_REGION="", AWS_SECRET_ACCESS_KEY="s").region == "us-east-1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_port_nothing_listens_on_is_said_at_once_naming_the_setting(external):
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ServiceUnavailable, match=rf"^cannot reach S3 at S3_ENDPOINT_URL={url} \(.*refused.*\)$"):
        external(url=url, AWS_SECRET_ACCESS_KEY="s")


@pytest.mark.parametrize("code", ["InvalidClientTokenId", "InvalidToken"])
def test_every_rejected_credentials_code_is_a_configuration_error(external, code):
    body = f"<Error><Code>{code}</Code><Message>rejected</Message></Error>".encode()
    with pytest.raises(ConfigError, match=rf"rejected the credentials \({code}\)"):
        external(403, body, AWS_SECRET_ACCESS_KEY="s")


def test_localstack_without_edition_or_version_is_still_named(external):
    endpoint = external(health={"services": {"s3": "running"}}, AWS_SECRET_ACCESS_KEY="s")
    assert (endpoint.backend, endpoint.version) == ("LocalStack", "")


def test_another_s3_compatible_endpoint_has_no_version(external):
    endpoint = external(AWS_SECRET_ACCESS_KEY="s")
    assert (endpoint.backend, endpoint.version) == ("S3-compatible endpoint", "")


def test_a_proxy_in_the_environment_is_never_used_for_a_loopback_endpoint(external, monkeypatch):
    dead_proxy = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    endpoint = external(health=LOCALSTACK, AWS_SECRET_ACCESS_KEY="s")
    assert (endpoint.backend, endpoint.version) == ("LocalStack community", "3.8.1")


def test_an_https_endpoint_is_probed_over_tls(s3_service):
    problem = _http_answer_problem(f"https://127.0.0.1:{s3_service.port}", 2)  # a plain-HTTP server
    assert problem is not None and problem.startswith("no HTTP answer (") and "SSL" in problem


@pytest.fixture
def loopback_taken_for_aws(monkeypatch):
    """The provider takes 127.0.0.1 for an AWS host: the AWS path (opt-in, naming, no LocalStack probe) without AWS."""
    from narrative_fixtures.services.s3 import provider

    monkeypatch.setattr(provider, "is_aws_host", lambda host: host == "127.0.0.1")


def test_an_aws_endpoint_without_the_opt_in_is_refused_naming_it(external, loopback_taken_for_aws):
    with pytest.raises(ConfigError, match=r"is real AWS S3: set TEST_S3_ALLOW_AWS=1 to opt in"):
        external(health=LOCALSTACK, AWS_SECRET_ACCESS_KEY="s")


def test_an_aws_endpoint_with_the_opt_in_is_named_aws_s3_and_never_asked_for_localstack(external, loopback_taken_for_aws):
    endpoint = external(health=LOCALSTACK, AWS_SECRET_ACCESS_KEY="s", TEST_S3_ALLOW_AWS="1")
    assert (endpoint.service, endpoint.aws, endpoint.backend, endpoint.version) == ("s3", True, "AWS S3", "")


def test_an_endpoint_off_loopback_is_identified_through_the_environments_proxy(monkeypatch):
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from narrative_fixtures.provisioning import ThreadServer
    from narrative_fixtures.services.s3.provider import _identify

    asked = []

    class Proxy(BaseHTTPRequestHandler):  # answers for any host, as a forward proxy in front of LocalStack would
        def do_GET(self):  # noqa: N802 - http.server's naming
            asked.append(self.path)
            payload = json.dumps(LOCALSTACK).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    proxy = ThreadServer("s3-proxy", lambda host, port: ThreadingHTTPServer((host, port), Proxy), timeout=5,
                         setting="-").start()
    try:
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        assert _identify("http://localstack.invalid:4566") == ("LocalStack community", "3.8.1")
    finally:
        proxy.stop()
    assert asked == ["http://localstack.invalid:4566/_localstack/health"]


class _Overridden:
    """The resolved S3 settings with some values replaced (as a configuration built by hand may hold)."""

    def __init__(self, config, **values) -> None:
        self._config, self._values = config, values

    def __getitem__(self, key: str):
        return self._values[key] if key in self._values else self._config[key]

    def flag(self, key: str) -> bool:
        return self._config.flag(key)


@pytest.fixture
def connect_with(tmp_path):
    """Connects the provider to a LocalStack stand-in with the resolved settings, ``values`` replaced."""
    server = _stand_in(200, LIST_BUCKETS, LOCALSTACK)
    env = {"S3_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    settings = cfg.resolve({}, env, {}, Path(tmp_path))
    context = ProvisionContext(settings, "master", RUN_ID)
    yield lambda **values: PROVIDER.connect_external(_Overridden(settings["s3"], **values), context)
    server.stop()


def test_a_configuration_without_a_region_means_us_east_1(connect_with):
    assert connect_with(region="").region == "us-east-1"


def test_a_configuration_without_keys_gives_an_endpoint_without_keys(connect_with):
    assert connect_with(access_key_id=None, secret_access_key=None).credentials == ("", "")


@pytest.mark.parametrize("url, message", [
    ("ftp://localhost:4566", "=ftp://localhost:4566 is not an S3 endpoint URL (expected http(s)://host:port)"),
    ("localhost:4566", "=localhost:4566 is not an S3 endpoint URL (expected http(s)://host:port)"),
    ("http://h:99999", "=http://h:99999 is not a valid URL (Port out of range 0-65535)"),
    ("https://s3.amazonaws.com", "=https://s3.amazonaws.com is real AWS S3: set TEST_S3_ALLOW_AWS=1 to opt in, or point"
                                 " S3_ENDPOINT_URL at LocalStack / the embedded server"),
])
def test_an_endpoint_setting_refused_says_so_in_one_line_naming_the_setting_and_the_value(url, message):
    from narrative_fixtures.services.s3.provider import external_endpoint

    with pytest.raises(ConfigError) as refused:
        external_endpoint(url, allow_aws=False)
    assert str(refused.value) == "S3_ENDPOINT_URL" + message


def test_an_endpoint_keeps_its_path_without_the_trailing_slash():
    from narrative_fixtures.services.s3.provider import external_endpoint

    assert external_endpoint(" http://minio.internal:9000/X/ ", allow_aws=False) == "http://minio.internal:9000/X"


def test_rejected_credentials_are_said_in_one_line_naming_the_endpoint_and_both_settings(external):
    body = b"<Error><Code>InvalidAccessKeyId</Code><Message>rejected</Message></Error>"
    with pytest.raises(ConfigError) as rejected:
        external(403, body, AWS_SECRET_ACCESS_KEY="s")
    line = str(rejected.value)
    assert re.fullmatch(r"S3 at S3_ENDPOINT_URL=http://127\.0\.0\.1:\d+ rejected the credentials "
                        r"\(InvalidAccessKeyId\): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", line), line


def test_a_server_that_closes_the_connection_unanswered_makes_s3_unavailable_naming_it(external):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def close_each_connection():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=close_each_connection, daemon=True).start()
    try:
        with pytest.raises(ServiceUnavailable) as unavailable:
            external(url=f"http://127.0.0.1:{port}", AWS_SECRET_ACCESS_KEY="s")
    finally:
        listener.close()
    assert str(unavailable.value).startswith(f"cannot reach S3 at S3_ENDPOINT_URL=http://127.0.0.1:{port} (")
