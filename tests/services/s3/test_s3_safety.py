"""The S3 fixtures never empty or delete a bucket they did not create, and tolerate one left by a crashed run."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from narrative_fixtures.errors import UnsafeTarget
from narrative_fixtures.services.s3 import OWNER_TAG, BucketJanitor, bucket_name

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


def test_a_bucket_whose_name_lacks_test_and_its_object_survive_a_run_pointed_at_it(pointed, foreign_bucket, s3_client):
    name = foreign_bucket("narrative-prod-data")
    project = pointed("narrative-prod-data")
    project.makepyfile(STORES_A_FILE)
    result = project.runpytest_inprocess("-rE", "-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*narrative-prod-data*does not start with 'test-'*refusing*TEST_S3_BUCKET*"])
    assert _contents(s3_client, name) == {"customers/contract.pdf": b"%PDF signed"}
    with pytest.raises(ClientError):  # not adopted either: still untagged
        s3_client.get_bucket_tagging(Bucket=name)


def test_a_foreign_bucket_under_the_configured_name_is_never_touched(pointed, foreign_bucket, s3_client):
    name = foreign_bucket("test-made-by-hand")
    project = pointed("test-made-by-hand")
    project.makepyfile(STORES_A_FILE)
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)  # in a bucket of its own run
    assert _contents(s3_client, name) == {"customers/contract.pdf": b"%PDF signed"}
    with pytest.raises(ClientError):
        s3_client.get_bucket_tagging(Bucket=name)


def _buckets(s3_client, prefix: str) -> list[str]:
    return [item["Name"] for item in s3_client.list_buckets()["Buckets"] if item["Name"].startswith(prefix)]


def test_a_bucket_left_by_a_crashed_run_is_never_taken_by_the_next_run(pointed, s3_client):
    project = pointed("test-crashed-run")
    project.makepyfile(test_crash=CRASHES)
    crashed = project.runpytest_subprocess("-p", "no:randomly", "test_crash.py")
    assert crashed.ret != 0
    (leftover,) = _buckets(s3_client, "test-crashed-run")
    try:
        assert leftover != bucket_name("test-crashed-run"), "the crashed run's bucket was not named after the run"
        assert _contents(s3_client, leftover) == {"half-written.csv": b"id,value"}, "the crash should leave it"
        project.makepyfile(test_next_run=STORES_A_FILE)
        project.runpytest_inprocess("-p", "no:randomly", "test_next_run.py").assert_outcomes(passed=1)
        assert _buckets(s3_client, "test-crashed-run") == [leftover], "the next run left its own bucket or took this"
        assert _contents(s3_client, leftover) == {"half-written.csv": b"id,value"}
    finally:
        _remove_by_hand(s3_client, leftover)


# --- ownership is proven by this run, never by a tag (issue 11, case 1) -------------------------------------------

RECORDS_ITS_BUCKET = """
from pathlib import Path

def test_records_its_bucket(s3_client, test_s3_bucket):
    s3_client.put_object(Bucket=test_s3_bucket, Key="written-by-the-run.txt", Body=b"x")
    Path("bucket-used.txt").write_text(test_s3_bucket)
"""

A_STRANGER_TAKES_THE_NAME = """
import time

def test_meanwhile_a_stranger_takes_the_name(s3_client, test_s3_bucket):
    s3_client.delete_bucket(Bucket=test_s3_bucket)
    time.sleep(1.1)  # S3 gives a bucket's creation time to the second
    s3_client.create_bucket(Bucket=test_s3_bucket)  # from now on someone else's bucket (moto keeps the old tags)
    for number in range(3):
        s3_client.put_object(Bucket=test_s3_bucket, Key=f"customers/{number}.pdf", Body=b"%PDF signed")
"""


@pytest.fixture
def stranger(s3_client):
    """Creates buckets the way someone else would (no fixtures involved), each holding ``files`` objects."""
    created = []

    def create(name: str, files: int) -> str:
        s3_client.create_bucket(Bucket=name)
        for number in range(files):
            s3_client.put_object(Bucket=name, Key=f"customers/{number}.pdf", Body=b"%PDF signed")
        created.append(name)
        return name

    yield create
    for name in created:
        _remove_by_hand(s3_client, name)


def _remove_by_hand(s3_client, name: str) -> None:
    if _exists(s3_client, name):
        for key in _contents(s3_client, name):
            s3_client.delete_object(Bucket=name, Key=key)
        s3_client.delete_bucket(Bucket=name)


def _object_count(s3_client, bucket: str) -> int:
    return s3_client.list_objects_v2(Bucket=bucket)["KeyCount"]


def test_a_strangers_bucket_under_a_name_an_earlier_run_used_survives_the_next_run(pointed, s3_client, stranger):
    project = pointed("test-stale-tag")
    project.makepyfile(RECORDS_ITS_BUCKET)
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
    used = Path(project.path, "bucket-used.txt").read_text()
    assert not _exists(s3_client, used), "the first run did not remove its bucket"
    stranger(used, files=3)  # the customer's bucket, under the name the first run used (moto kept its tags)

    result = project.runpytest_inprocess("-p", "no:randomly")  # the next run, same settings
    result.assert_outcomes(passed=1)
    assert _object_count(s3_client, used) == 3, "the next run emptied a stranger's bucket"
    assert Path(project.path, "bucket-used.txt").read_text() != used


def test_a_bucket_a_stranger_recreated_during_the_test_is_left_alone_at_teardown(pointed, s3_client):
    project = pointed("test-taken-over")
    project.makepyfile(A_STRANGER_TAKES_THE_NAME)
    result = project.runpytest_inprocess("-rE", "-p", "no:randomly")
    taken = [item["Name"] for item in s3_client.list_buckets()["Buckets"] if item["Name"].startswith("test-taken-over")]
    try:
        result.assert_outcomes(passed=1, errors=1)  # the teardown says so, once, in one line
        result.stdout.fnmatch_lines(["*bucket 'test-taken-over*' is no longer the one this run created*TEST_S3_BUCKET*"])
        assert len(taken) == 1 and _object_count(s3_client, taken[0]) == 3
    finally:
        for name in taken:
            _remove_by_hand(s3_client, name)


def test_an_existing_bucket_carrying_the_owner_tag_is_not_taken_for_ours(s3_client, stranger):
    name = stranger(bucket_name("test-copied-tag"), files=4)
    s3_client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [OWNER_TAG]})  # a tag anyone can write
    janitor = BucketJanitor(s3_client, name, "us-east-1")
    with pytest.raises(UnsafeTarget, match=f"bucket '{name}' already exists.*refusing.*TEST_S3_BUCKET"):
        janitor.create()
    assert _object_count(s3_client, name) == 4
