"""The S3 fixtures never empty or delete a bucket they did not create, and tolerate one left by a crashed run."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from narrative_fixtures.services.s3 import OWNER_TAG, bucket_name

STORES_A_FILE = """
def test_stores_a_file(s3_client, test_s3_bucket):
    s3_client.put_object(Bucket=test_s3_bucket, Key="written-by-the-run.txt", Body=b"x")
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 1
"""

CRASHES = """
import os, signal

def test_crashes_midway(s3_client, test_s3_bucket):
    s3_client.put_object(Bucket=test_s3_bucket, Key="half-written.csv", Body=b"id,value")
    os.kill(os.getpid(), signal.SIGKILL)  # no teardown runs: the bucket stays behind
"""


@pytest.fixture
def pointed(project, s3_service):
    """The nested project, pointed (external mode) at this run's S3 server; returns a setter for the bucket."""
    project._monkeypatch.setenv("S3_ENDPOINT_URL", s3_service.url)
    project._monkeypatch.delenv("TEST_S3_ALLOW_AWS", raising=False)

    def point_at(bucket: str) -> pytest.Pytester:
        project._monkeypatch.setenv("TEST_S3_BUCKET", bucket)
        return project

    return point_at


def _contents(s3_client, bucket: str) -> dict[str, bytes]:
    listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed}


def _exists(s3_client, bucket: str) -> bool:
    try:
        s3_client.head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


@pytest.fixture
def foreign_bucket(s3_client, request):
    """Creates a bucket outside the fixtures (no tag) holding one object; removes it afterwards."""
    created = []

    def create(configured: str) -> str:
        name = bucket_name(configured)
        s3_client.create_bucket(Bucket=name)
        s3_client.put_object(Bucket=name, Key="customers/contract.pdf", Body=b"%PDF signed")
        created.append(name)
        return name

    yield create
    for name in created:
        for key in _contents(s3_client, name):
            s3_client.delete_object(Bucket=name, Key=key)
        s3_client.delete_bucket(Bucket=name)


@pytest.mark.parametrize(
    "configured, reason",
    [
        ("narrative-prod-data", "does not start with 'test-'"),
        ("test-made-by-hand", "was not created by these fixtures"),
    ],
)
def test_a_foreign_bucket_and_its_object_survive_a_run_pointed_at_it(
    pointed, foreign_bucket, s3_client, configured, reason
):
    name = foreign_bucket(configured)
    project = pointed(configured)
    project.makepyfile(STORES_A_FILE)
    result = project.runpytest_inprocess("-rE", "-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{name}*{reason}*refusing*TEST_S3_BUCKET*"])
    assert _contents(s3_client, name) == {"customers/contract.pdf": b"%PDF signed"}
    with pytest.raises(ClientError):  # not adopted either: still untagged
        s3_client.get_bucket_tagging(Bucket=name)


def test_a_bucket_left_by_a_crashed_run_is_emptied_and_reused(pointed, s3_client):
    name = bucket_name("test-crashed-run")
    project = pointed("test-crashed-run")
    project.makepyfile(test_crash=CRASHES)
    crashed = project.runpytest_subprocess("-p", "no:randomly", "test_crash.py")
    assert crashed.ret != 0
    assert _contents(s3_client, name) == {"half-written.csv": b"id,value"}, "the crash should leave the bucket"
    assert OWNER_TAG in s3_client.get_bucket_tagging(Bucket=name)["TagSet"]
    # make the leftover as messy as a real one can be: versions, a delete marker, an unfinished multipart upload
    s3_client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3_client.put_object(Bucket=name, Key="half-written.csv", Body=b"id,value,category")
    s3_client.delete_object(Bucket=name, Key="half-written.csv")
    s3_client.create_multipart_upload(Bucket=name, Key="never-finished.bin")

    project.makepyfile(test_next_run=STORES_A_FILE)
    result = project.runpytest_inprocess("-p", "no:randomly", "test_next_run.py")
    result.assert_outcomes(passed=1)
    assert not _exists(s3_client, name), "the reused bucket was not removed after the test"
