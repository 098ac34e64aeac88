"""A scenario that used what a stand-in serves differently carries its fidelity lines in its Allure result: the
attachment "narrative fidelity" and the tag "stand-in fidelity" (read back from the written allure-results JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signoff.signoff_demo import CONFTEST, INI, demo_env

FEATURE = """\
@s3 @task:3.3
Feature: Files are stored once
  Scenario: Two workers create the same lock
    Given the app stores a lock with a create-if-absent
    Then the lock is stored

  Scenario: A plain upload
    Given the app stores a plain file
    Then the lock is stored
"""

STEPS = '''\
import boto3
from pytest_bdd import given, scenarios, then

scenarios("files.feature")


def app_storage(endpoint):
    return boto3.client("s3", endpoint_url=endpoint.url, region_name=endpoint.region,
                        aws_access_key_id=endpoint.access_key_id, aws_secret_access_key=endpoint.secret_access_key)


@given("the app stores a lock with a create-if-absent", target_fixture="stored")
def create_if_absent(s3_service, test_s3_bucket):
    app_storage(s3_service).put_object(Bucket=test_s3_bucket, Key="lock", Body=b"w1", IfNoneMatch="*")
    return True


@given("the app stores a plain file", target_fixture="stored")
def plain(s3_service, test_s3_bucket):
    app_storage(s3_service).put_object(Bucket=test_s3_bucket, Key="plain", Body=b"x")
    return True


@then("the lock is stored")
def stored_(stored):
    assert stored
'''


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    path = tmp_path_factory.mktemp("allure-fidelity")
    (path / "features").mkdir()
    (path / "features" / "files.feature").write_text(FEATURE)
    (path / "features" / "test_files.py").write_text(STEPS)
    (path / "conftest.py").write_text(CONFTEST)
    (path / "pytest.ini").write_text(INI)
    command = [sys.executable, "-m", "pytest", "features", "-p", "no:randomly", "-p", "no:cacheprovider",
               "--rootdir", str(path), "-c", str(path / "pytest.ini"), "--alluredir", str(path / "allure-results")]
    done = subprocess.run(command, cwd=path, env=demo_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = {}
    for result_file in (path / "allure-results").glob("*-result.json"):
        result = json.loads(result_file.read_text())
        result["attached"] = {attachment["name"]: (path / "allure-results" / attachment["source"]).read_text()
                              for attachment in result.get("attachments", [])}
        found[result["name"]] = result
    return found


def test_a_scenario_with_fidelity_findings_has_them_attached_and_tagged(results):
    lock = results["Two workers create the same lock"]
    assert lock["status"] == "passed"
    text = lock["attached"]["narrative fidelity"]
    assert text.startswith("S3 fidelity: conditional create (put_object IfNoneMatch='*') on the stand-in moto S3"
                           " server "), text
    assert "not atomic" in text and "to run on LocalStack set S3_ENDPOINT_URL" in text
    assert {"name": "tag", "value": "stand-in fidelity"} in lock["labels"]


def test_a_scenario_without_findings_has_neither(results):
    plain = results["A plain upload"]
    assert plain["status"] == "passed"
    assert "narrative fidelity" not in plain["attached"]
    assert {"name": "tag", "value": "stand-in fidelity"} not in plain["labels"]


def test_the_sign_off_record_keeps_the_lines_too(results, tmp_path_factory):
    # the run record (reports/run.json) is what the sign-off's verdicts read: the same line is there
    run = json.loads(next(Path(tmp_path_factory.getbasetemp()).glob("allure-fidelity*/reports/run.json")).read_text())
    lines = {s["scenario"]: s.get("narrative_fidelity", []) for s in run["scenarios"]}
    assert [line.split(" on the stand-in")[0] for line in lines["Two workers create the same lock"]] == [
        "S3 fidelity: conditional create (put_object IfNoneMatch='*')"]
    assert lines["A plain upload"] == []
