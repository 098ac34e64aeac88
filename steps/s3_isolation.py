"""Steps of the S3 feature that run another project's tests (nested runs): isolation between tests, more buckets
from the factory, buckets the fixtures did not create. Registered by ``steps.s3``."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.s3 import bucket_name
from steps.nested import run_nested
from steps.s3 import _keys, _read


ISOLATION_TESTS = '''
import pytest

@pytest.mark.asyncio
async def test_one_stores(s3_client, test_s3_bucket, test_s3_file):
    s3_client.put_object(Bucket=test_s3_bucket, Key="left/behind.txt", Body=b"by test one")
    listed = s3_client.list_objects_v2(Bucket=test_s3_bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == ["left/behind.txt", "test-data/test_file.csv"]

@pytest.mark.asyncio
async def test_two_sees_nothing(s3_client, test_s3_bucket):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
    assert s3_client.list_object_versions(Bucket=test_s3_bucket).get("Versions", []) == []
'''


def _nested_env(s3_service, bucket: str) -> dict[str, str]:
    # another project pointed at this run's server; its own bucket name, so it never meets this test's bucket
    return {"S3_ENDPOINT_URL": s3_service.url, "TEST_S3_MODE": "external", "TEST_S3_BUCKET": bucket}


@then("a test that stores files leaves nothing behind for the test after it")
def isolation(pytester: pytest.Pytester, s3_client, s3_service):
    result = run_nested(pytester, ISOLATION_TESTS, **_nested_env(s3_service, "test-narrative-isolation"))
    result.assert_outcomes(passed=2)
    left = [b["Name"] for b in s3_client.list_buckets()["Buckets"] if b["Name"].startswith("test-narrative-isolation")]
    assert left == []


MORE_BUCKETS_CONFTEST = """
from narrative_fixtures.services.s3 import bucket_factory

exports_bucket = bucket_factory("test-narrative-exports")
"""

MORE_BUCKETS_TESTS = '''
from pathlib import Path

def test_uses_two_buckets(s3_client, test_s3_bucket, exports_bucket):
    assert exports_bucket != test_s3_bucket
    for bucket in (test_s3_bucket, exports_bucket):
        assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3_client.put_object(Bucket=exports_bucket, Key="exports/report.csv", Body=b"id,value")
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
    Path("buckets-used.txt").write_text(f"{test_s3_bucket} {exports_bucket}")
'''


@then("a test given a second bucket beside its test bucket finds both empty and apart, and both are removed after it")
def more_buckets(pytester: pytest.Pytester, s3_client, s3_service):
    pytester.makeconftest(MORE_BUCKETS_CONFTEST)
    result = run_nested(pytester, MORE_BUCKETS_TESTS, **_nested_env(s3_service, "test-narrative-story-bucket"))
    result.assert_outcomes(passed=1)
    used = (pytester.path / "buckets-used.txt").read_text().split()
    assert [name for name in used if name in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]] == []


CUSTOMER_FILE = ("customers/contract.pdf", b"%PDF-1.7 signed customer contract")


@given(
    parsers.parse('a bucket "{foreign_name}" holding a customer file, created outside the test fixtures'),
    target_fixture="foreign",
)
def foreign_bucket(s3_client, foreign_name):
    name = bucket_name(foreign_name)  # the bucket a run configured with that name uses on this worker
    s3_client.create_bucket(Bucket=name)
    s3_client.put_object(Bucket=name, Key=CUSTOMER_FILE[0], Body=CUSTOMER_FILE[1])
    yield {"configured": foreign_name, "name": name}
    for key in _keys(s3_client, name):
        s3_client.delete_object(Bucket=name, Key=key)
    s3_client.delete_bucket(Bucket=name)


REFUSED_TEST = """
from pathlib import Path

def test_would_store_a_file(s3_client, test_s3_bucket):
    Path("bucket-used.txt").write_text(test_s3_bucket)
    s3_client.put_object(Bucket=test_s3_bucket, Key="overwritten.txt", Body=b"must never be written")
"""


@when(parsers.parse('a test run is pointed at "{foreign_name}"'), target_fixture="pointed_run")
def point_run(pytester: pytest.Pytester, s3_service, foreign, foreign_name):
    assert foreign["configured"] == foreign_name
    return run_nested(pytester, REFUSED_TEST, "-rE", **_nested_env(s3_service, foreign_name))


@then("that run keeps its files in a bucket of its own, named after the run")
def run_used_its_own(pointed_run, pytester: pytest.Pytester, s3_client, foreign):
    pointed_run.assert_outcomes(passed=1)
    used = (pytester.path / "bucket-used.txt").read_text()
    assert used.startswith(f"{foreign['configured']}-") and used != foreign["name"]
    assert used not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]], "the run left its bucket behind"


@then('that run refuses a name lacking "test-", naming TEST_S3_BUCKET, and else uses a bucket of its own run')
def run_refused_or_kept_apart(pointed_run, pytester: pytest.Pytester, s3_client, foreign):
    output = pointed_run.stdout.str()
    if not foreign["configured"].startswith("test-"):
        pointed_run.assert_outcomes(errors=1)
        assert "TEST_S3_BUCKET" in output and "refusing" in output and foreign["configured"] in output, output
        return
    pointed_run.assert_outcomes(passed=1)  # the run's bucket is named after the run: it never meets this one
    used = (pytester.path / "bucket-used.txt").read_text()
    assert used.startswith(f"{foreign['configured']}-") and used != foreign["name"]
    assert used not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]], "the run left its bucket behind"


@then(parsers.parse('"{foreign_name}" and its customer file are untouched'))
def untouched(s3_client, foreign, foreign_name):
    assert foreign["configured"] == foreign_name
    name = foreign["name"]
    assert _keys(s3_client, name) == [CUSTOMER_FILE[0]]
    assert _read(s3_client, name, CUSTOMER_FILE[0]) == CUSTOMER_FILE[1]
    with pytest.raises(ClientError):  # not even tagged as ours
        s3_client.get_bucket_tagging(Bucket=name)
