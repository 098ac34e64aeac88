"""The S3 fixtures as another project meets them: plain pytest / pytest-asyncio tests, skip vs strict, probing once,
and the presigned-URL expiry check the embedded server adds to moto."""

from __future__ import annotations

import http.client
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from narrative_fixtures.provisioning import port_accepts
from narrative_fixtures.services.s3.server import PresignedUrlExpiry
from tests.conftest import closed_port

TEN_S3_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(10))
def test_uses_s3(s3_client, n):
    s3_client.list_buckets()
"""


def test_plain_pytest_and_pytest_asyncio_tests_use_the_fixtures(project):
    project._monkeypatch.delenv("TEST_S3_BUCKET", raising=False)
    project._monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # a run of its own, not one of our workers
    project.makepyfile(
        """
        import csv, io
        import pytest

        def test_sample_file_is_in_the_bucket(s3_client, test_s3_file):
            body = s3_client.get_object(Bucket=test_s3_file["bucket"], Key=test_s3_file["key"])["Body"].read()
            rows = list(csv.DictReader(io.StringIO(body.decode())))
            assert len(rows) == 5 and list(rows[0]) == ["id", "value", "category"]
            assert test_s3_file["url"] == "s3://test-narrative-bucket/test-data/test_file.csv"

        @pytest.mark.asyncio
        async def test_next_test_gets_an_empty_bucket(s3_client, test_s3_bucket):
            assert test_s3_bucket == "test-narrative-bucket"
            assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
        """
    )
    result = project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    (log_file,) = Path(project.path, "reports", "services").rglob("s3.log")  # the run's own log folder
    log = log_file.read_text()
    port = int(re.findall(r"starting s3 on 127\.0\.0\.1:(\d+)", log)[-1])
    assert not port_accepts("127.0.0.1", port), "the embedded S3 server outlived its run"


def test_unreachable_s3_skips_every_test_naming_the_setting(project):
    project._monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    project.makepyfile(TEN_S3_TESTS)
    began = time.perf_counter()
    result = project.runpytest_inprocess("-rs")
    elapsed = time.perf_counter() - began
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]10] *s3 unavailable: cannot reach S3 at S3_ENDPOINT_URL=http://127.0.0.1:*"]
    )
    print(f"10 tests skipped on an unreachable S3 in {elapsed:.2f} s")


def test_unreachable_s3_fails_in_strict_mode(project):
    project._monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    project.makepyfile(TEN_S3_TESTS)
    result = project.runpytest_inprocess("--require-services")
    result.assert_outcomes(errors=10)
    result.stdout.fnmatch_lines(["*cannot reach S3 at S3_ENDPOINT_URL=*strict mode: --require-services*"])


def test_unreachable_s3_is_probed_once_per_run(project, monkeypatch):
    from narrative_fixtures.services import s3

    calls = []
    original = s3.S3Provider.connect_external
    monkeypatch.setattr(
        s3.S3Provider, "connect_external", lambda self, *args: calls.append(1) or original(self, *args)
    )
    project._monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    project.makepyfile(TEN_S3_TESTS)
    project.runpytest_inprocess().assert_outcomes(skipped=10)
    assert calls == [1]


def test_a_run_without_s3_tests_starts_no_s3_server(project):
    project.makepyfile("def test_nothing_to_store():\n    assert 1 + 1 == 2\n")
    project.runpytest_inprocess().assert_outcomes(passed=1)
    assert not list(Path(project.path, "reports", "services").rglob("s3.log"))


# --- the presigned-URL expiry check of the embedded server ---------------------------------------------------------

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z


def _call(query: str) -> tuple[str, bytes]:
    seen = {}

    def moto(environ, start_response):
        start_response("200 OK", [])
        return [b"served by moto"]

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(PresignedUrlExpiry(moto, clock=lambda: NOW)({"QUERY_STRING": query}, start_response))
    return seen["status"], body


def _sigv4(signed_at: int, expires: int) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
    return f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires={expires}&X-Amz-Signature=ab"


@pytest.mark.parametrize(
    "query, status",
    [
        (_sigv4(NOW - 60, 300), "200 OK"),
        (_sigv4(NOW - 300, 300), "200 OK"),  # the last second of validity
        (_sigv4(NOW - 301, 300), "403 Forbidden"),
        (_sigv4(NOW - 7200, 3600), "403 Forbidden"),
        (_sigv4(NOW, 604801), "400 Bad Request"),  # SigV4 links live a week at most
        (f"AWSAccessKeyId=k&Signature=s&Expires={NOW + 10}", "200 OK"),
        (f"AWSAccessKeyId=k&Signature=s&Expires={NOW - 10}", "403 Forbidden"),
        ("X-Amz-Expires=300&X-Amz-Date=not-a-date", "200 OK"),  # not understood: moto decides
        ("prefix=reports/&max-keys=3", "200 OK"),  # not presigned at all
    ],
)
def test_presigned_urls_are_refused_once_expired(query, status):
    answered, body = _call(query)
    assert answered == status
    if status == "403 Forbidden":
        assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    elif status == "200 OK":
        assert body == b"served by moto"


# --- the embedded server's keep-alive connections -------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_server(request):
    """An embedded S3 server of this module's own (whatever mode the run uses), stopped afterwards."""
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services import s3
    from narrative_fixtures.services.common import settings_of

    endpoint, owned = s3.PROVIDER.start_embedded(ProvisionContext(settings_of(request.config), "selftest"))
    yield endpoint
    owned.stop()


def _connect(endpoint) -> http.client.HTTPConnection:
    parts = urlsplit(endpoint.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)


def _exchange(connection, method: str, path: str, body: bytes | None = None, **headers: str):
    headers.setdefault("Authorization", "AWS4-HMAC-SHA256 Credential=k/20000101/us-east-1/s3/aws4_request")
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_one_connection_carries_many_requests_whatever_their_outcome(embedded_server):
    connection = _connect(embedded_server)
    connection.connect()
    sock = connection.sock
    answers = [
        _exchange(connection, "HEAD", "/test-missing-bucket"),
        _exchange(connection, "PUT", "/test-missing-bucket/key", body=b"x" * 70_000),  # refused, body unread by moto
        _exchange(connection, "PUT", "/test-keepalive"),
        _exchange(connection, "PUT", "/test-keepalive/key", body=b"payload"),
        _exchange(connection, "HEAD", "/test-keepalive/key"),
        _exchange(connection, "GET", "/test-keepalive/key"),
        _exchange(connection, "DELETE", "/test-keepalive/key"),
        _exchange(connection, "DELETE", "/test-keepalive"),
    ]
    assert [status for status, _, _ in answers] == [404, 404, 200, 200, 200, 200, 204, 204]
    assert answers[5][2] == b"payload"
    assert all(connection_header != "close" for _, connection_header, _ in answers)
    assert connection.sock is sock, "the server closed the connection"
    connection.close()


def test_a_chunked_request_body_ends_its_connection(embedded_server):
    connection = _connect(embedded_server)
    connection.request(
        "PUT", "/test-chunked/key", body=iter([b"chunked ", b"body"]), encode_chunked=True,
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=k/20000101/us-east-1/s3/aws4_request"},
    )
    response = connection.getresponse()
    response.read()
    assert response.getheader("Connection") == "close"  # nothing left unread can be taken for the next request
    assert response.status == 404  # NoSuchBucket: the request itself was understood
    connection.close()
