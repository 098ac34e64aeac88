"""External mode against small stand-ins for LocalStack: how the endpoint is named, rejected credentials, secrets."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.provisioning import ProvisionContext, ThreadServer
from narrative_fixtures.services.s3 import PROVIDER

SECRET = "very-secret-key-never-shown"
RUN_ID = "0123456789ab"
LIST_BUCKETS = b'<?xml version="1.0"?><ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'


def _stand_in(status: int, body: bytes, health: dict | None = None):
    """An HTTP server answering every S3 request with ``status``/``body`` and /_localstack/health with ``health``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path.startswith("/_localstack/health") and health is not None:
                self._answer(200, json.dumps(health).encode(), "application/json")
            elif self.path.startswith("/_localstack/health"):
                self._answer(404, b"<Error><Code>NoSuchBucket</Code></Error>", "application/xml")
            else:
                self._answer(status, body, "application/xml")

        def _answer(self, code: int, payload: bytes, content_type: str):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return ThreadServer(
        "s3-stand-in", lambda host, port: ThreadingHTTPServer((host, port), Handler), timeout=5, setting="-"
    ).start()


@pytest.fixture
def connect(tmp_path, as_a_serial_run):
    servers = []

    def connect_to(status: int, body: bytes, health: dict | None = None):
        server = _stand_in(status, body, health)
        servers.append(server)
        env = {"S3_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "test_key", "AWS_SECRET_ACCESS_KEY": SECRET}
        settings = cfg.resolve({}, env, {}, Path(tmp_path))
        return PROVIDER.connect_external(settings["s3"], ProvisionContext(settings, "master", RUN_ID))

    yield connect_to
    for server in servers:
        server.stop()


def test_localstack_is_named_with_its_version(connect):
    endpoint = connect(200, LIST_BUCKETS, {"edition": "community", "version": "3.8.1", "services": {"s3": "running"}})
    assert (endpoint.backend, endpoint.version, endpoint.mode) == ("LocalStack community", "3.8.1", "external")
    assert endpoint.details == {"region": "us-east-1", "aws": False, "bucket": f"test-narrative-bucket-{RUN_ID}"}
    typed = (endpoint.region, endpoint.aws, endpoint.bucket, endpoint.pid, endpoint.host, endpoint.credentials)
    assert typed == ("us-east-1", False, f"test-narrative-bucket-{RUN_ID}", None, "127.0.0.1", ("test_key", SECRET))
    assert SECRET not in repr(endpoint)


def test_another_s3_compatible_endpoint_is_named_as_such(connect):
    assert connect(200, LIST_BUCKETS).backend == "S3-compatible endpoint"


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch"])
def test_rejected_credentials_are_a_configuration_error_naming_the_settings(connect, code):
    body = f"<Error><Code>{code}</Code><Message>rejected</Message></Error>".encode()
    with pytest.raises(ConfigError) as error:
        connect(403, body)
    assert f"rejected the credentials ({code})" in str(error.value)
    assert "AWS_ACCESS_KEY_ID" in str(error.value) and "AWS_SECRET_ACCESS_KEY" in str(error.value)
    assert SECRET not in str(error.value)


def test_a_key_that_may_not_list_buckets_is_accepted(connect):
    assert connect(403, b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>").mode == "external"


def test_a_server_error_makes_s3_unavailable(connect):
    with pytest.raises(ServiceUnavailable, match="S3_ENDPOINT_URL=http://127.0.0.1:.* answered InternalError"):
        connect(500, b"<Error><Code>InternalError</Code><Message>boom</Message></Error>")
