"""The fidelity guard for the embedded moto S3 server as another project meets it: its application's own boto3
client gets a FidelityWarning (or a failure, or nothing) for what moto serves differently from S3 and LocalStack;
the needs_s3_server marker; the one table of differences (its reproductions: test_s3_moto_limits.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from narrative_fixtures.services.s3.fidelity import TABLE
from tests import fidelity_support as checks

APP_TESTS = """
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

SESSION = boto3.session.Session()  # the application's session, made when it is imported (at collection)


def app_storage(s3_service):
    # the application under test makes its own client from the endpoint it is given
    return SESSION.client("s3", endpoint_url=s3_service.url, region_name=s3_service.region,
                          aws_access_key_id=s3_service.access_key_id,
                          aws_secret_access_key=s3_service.secret_access_key)


def test_lock(s3_service, test_s3_bucket):
    storage = app_storage(s3_service)
    won = []

    def take(worker):
        try:
            storage.put_object(Bucket=test_s3_bucket, Key="locks/job-1", Body=worker.encode(), IfNoneMatch="*")
            won.append(worker)
        except ClientError:
            pass

    racers = [threading.Thread(target=take, args=(f"w{n}",)) for n in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert won


def test_plain(s3_service, test_s3_bucket):
    storage = app_storage(s3_service)
    storage.put_object(Bucket=test_s3_bucket, Key="a.txt", Body=b"a")
    assert storage.get_object(Bucket=test_s3_bucket, Key="a.txt")["Body"].read() == b"a"


@pytest.mark.needs_s3_server(reason="atomic conditional writes")
def test_needs_server(s3_service):
    pass
"""


@pytest.fixture
def app_project(project):
    project.makepyfile(test_app=APP_TESTS)
    return project


def test_warn_by_default_the_apps_own_client_racing_a_conditional_write_gets_a_fidelity_warning(app_project):
    result = app_project.runpytest_inprocess("-p", "no:randomly", "-rs", "--junitxml=junit.xml")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "*warnings summary*",
        "*test_app.py::test_lock",
        "*FidelityWarning: S3 fidelity: conditional create (put_object IfNoneMatch='*') on the stand-in moto S3"
        " server *: not atomic (moto checks that the key is absent, then writes*; reproduced by"
        " tests/services/s3/test_s3_moto_limits.py::test_a_conditional_create_*); to run on LocalStack set"
        " S3_ENDPOINT_URL*",
    ])
    found = checks.findings(app_project)
    assert checks.operations(found["test_lock"]) == [
        "S3 fidelity: conditional create (put_object IfNoneMatch='*')"]  # one line, whatever the racers
    assert found["test_plain"] == [] and found["test_needs_server"] == []
    result.stdout.fnmatch_lines([
        "SKIPPED*needs the S3 server (atomic conditional writes): the run's is the stand-in moto S3 server *;"
        " set S3_ENDPOINT_URL to a LocalStack",
    ])


def test_a_session_the_application_makes_at_import_time_is_watched_too(app_project):
    # the handler is in botocore's built-in handlers from the start of the run, not from when s3_service is set up:
    # test_app's SESSION, made while the test modules are collected, has it
    result = app_project.runpytest_subprocess("-p", "no:randomly", "-k", "lock", "--junitxml=junit.xml")  # fresh boto3
    result.assert_outcomes(passed=1)
    assert checks.operations(checks.findings(app_project)["test_lock"]) == [
        "S3 fidelity: conditional create (put_object IfNoneMatch='*')"]


def test_fail_fails_the_test_with_that_line(app_project):
    checks.assert_fail_mode_fails_with_the_lines(app_project, "TEST_S3_FIDELITY", "lock or plain", passed=1,
                                                 failed=1, lines=[
        "*_ test_lock _*",
        "S3 fidelity: conditional create (put_object IfNoneMatch='*') on the stand-in moto S3 server *: not atomic*",
    ])


def test_off_gives_nothing(app_project):
    checks.assert_off_gives_nothing(app_project, "--s3-fidelity", "lock or plain", ["test_lock", "test_plain"])


def test_a_test_that_needs_the_server_fails_on_moto_in_strict_mode(app_project):
    checks.assert_marked_test_fails_in_strict_mode(
        app_project, "needs the S3 server (atomic conditional writes): the run's is the stand-in moto S3 server *;"
        " set S3_ENDPOINT_URL to a LocalStack")


# --- the table --------------------------------------------------------------------------------------------------

def test_every_difference_names_a_reproduction_that_exists():
    assert checks.missing_reproductions(TABLE) == []


def _request(body: bytes = b"hello", **headers: str) -> dict:
    return {"headers": {name.lower(): value.encode() for name, value in headers.items()}, "body": body}


class _Headers(dict):
    def get(self, name, default=None):  # botocore's request headers ignore the case of names
        return super().get(name.lower(), default)


MD5_OF_HELLO = base64.b64encode(hashlib.md5(b"hello").digest()).decode()


@pytest.mark.parametrize(("operation", "headers", "operations"), [
    ("PutObject", {"If-None-Match": "*"}, ["conditional create (put_object IfNoneMatch='*')"]),
    ("PutObject", {"If-Match": '"abc"'}, ["conditional overwrite (put_object IfMatch=etag)"]),
    ("CopyObject", {"If-None-Match": "*"}, ["conditional copy (copy_object IfNoneMatch='*')"]),
    ("CompleteMultipartUpload", {"If-Match": '"abc"'}, ["conditional complete (complete_multipart_upload IfMatch)"]),
    ("CopyObject", {"x-amz-copy-source-if-match": '"abc"'}, []),  # a condition on the source: moto checks it
    ("PutObject", {"Content-MD5": MD5_OF_HELLO}, []),
    ("PutObject", {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, ["ContentMD5 that does not match the body"]),
    ("UploadPart", {"x-amz-checksum-crc32": "AAAAAA=="}, ["ChecksumCRC32 that does not match the body"]),
    ("GetObject", {"If-None-Match": "*"}, []),  # a conditional read: moto answers it as S3 does
    ("PutObject", {}, []),
])
def test_the_table_recognises_each_difference_and_nothing_else(operation, headers, operations):
    request = _request(**headers)
    request["headers"] = _Headers(request["headers"])
    assert [difference.operation for difference in TABLE.find(operation, request)] == operations


def test_docs_stand_ins_holds_both_tables_as_they_are_in_code():
    from narrative_fixtures.core.stand_in_docs import with_tables

    text = (checks.ROOT / "docs" / "stand-ins.md").read_text()
    for service in ("mongodb", "s3"):
        assert f"<!-- fidelity-table:{service}:begin" in text and f"<!-- fidelity-table:{service}:end -->" in text
    assert with_tables(text) == text, "out of date: run uv run python -m narrative_fixtures.core.stand_in_docs"
    assert TABLE.markdown() in text
