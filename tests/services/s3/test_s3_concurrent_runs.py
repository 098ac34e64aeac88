"""Two runs at once against one external S3 (two CI jobs sharing a target) never touch each other's data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

EACH_TEST_READS_BACK_ITS_OWN_BYTES = """
import os, time
import pytest

RUN = os.environ["WHICH_RUN"]

@pytest.mark.parametrize("number", range(15))
def test_reads_back_its_own_bytes(s3_client, test_s3_bucket, number):
    body = f"{RUN}-{number}".encode()
    s3_client.put_object(Bucket=test_s3_bucket, Key="report.csv", Body=body)
    time.sleep(0.04)  # the other run is busy meanwhile
    assert s3_client.get_object(Bucket=test_s3_bucket, Key="report.csv")["Body"].read() == body
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 1
"""

SENTINEL_FILES = 5


@pytest.fixture
def sentinel_bucket(s3_client):
    """A bucket of someone else on the shared target, holding SENTINEL_FILES files."""
    name = "test-shared-target-sentinel"
    s3_client.create_bucket(Bucket=name)
    for number in range(SENTINEL_FILES):
        s3_client.put_object(Bucket=name, Key=f"customers/{number}.pdf", Body=b"%PDF")
    yield name
    for item in s3_client.list_objects_v2(Bucket=name).get("Contents", []):
        s3_client.delete_object(Bucket=name, Key=item["Key"])
    s3_client.delete_bucket(Bucket=name)


def test_two_concurrent_runs_on_one_external_s3_both_pass_and_leave_nothing(project, s3_service, s3_client, sentinel_bucket):
    project.makepyfile(test_shared_target=EACH_TEST_READS_BACK_ITS_OWN_BYTES)
    env = {**os.environ, "S3_ENDPOINT_URL": s3_service.url, "TEST_S3_BUCKET": "test-ci-shared"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist"],
            cwd=project.path, env={**env, "WHICH_RUN": which}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
        for which in ("job-a", "job-b")
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output[-3000:]
        assert "15 passed" in output
    left = [item["Name"] for item in s3_client.list_buckets()["Buckets"] if item["Name"].startswith("test-ci-shared")]
    assert left == []
    assert s3_client.list_objects_v2(Bucket=sentinel_bucket)["KeyCount"] == SENTINEL_FILES
