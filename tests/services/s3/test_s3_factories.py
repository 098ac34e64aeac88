"""The S3 fixture factories as another project uses them (a conftest assigning them to names), and the typed
endpoint: a second bucket beside the story's, another server, a session-scoped bucket, the same safety rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from narrative_fixtures.provisioning import port_accepts

BESIDE_THE_STORY = """
from narrative_fixtures.services.s3 import bucket_factory, s3_file_factory

exports_bucket = bucket_factory("test-exports")
exports_file = s3_file_factory("exports/summary.json", b'{"rows": 5}', content_type="application/json",
                               bucket="exports_bucket")
"""

SECOND_SERVER = """
from narrative_fixtures.services.s3 import bucket_factory, s3_client_factory, s3_server_factory

s3_second = s3_server_factory("second")
s3_second_client = s3_client_factory("s3_second")
second_bucket = bucket_factory(client="s3_second_client", service="s3_second")
"""

SESSION_BUCKET = """
from narrative_fixtures.services.s3 import bucket_factory

shared_bucket = bucket_factory("test-shared", scope="session")
"""


def _buckets(s3_client, prefix: str) -> list[str]:
    return [item["Name"] for item in s3_client.list_buckets()["Buckets"] if item["Name"].startswith(prefix)]


@pytest.fixture
def pointed(project, s3_service):
    """The nested project in external mode on this run's S3 server (no server start per nested run)."""
    project._monkeypatch.setenv("S3_ENDPOINT_URL", s3_service.url)
    project._monkeypatch.delenv("TEST_S3_ALLOW_AWS", raising=False)
    return project


def test_a_second_bucket_from_the_factory_is_isolated_from_the_story_bucket(pointed, s3_client):
    pointed.makeconftest(BESIDE_THE_STORY)
    pointed.makepyfile(
        """
        from pathlib import Path

        def test_both(s3_client, test_s3_bucket, test_s3_file, exports_bucket, exports_file):
            assert exports_bucket != test_s3_bucket and exports_bucket.startswith("test-exports-")
            assert [item["Key"] for item in s3_client.list_objects_v2(Bucket=test_s3_bucket)["Contents"]] == [
                "test-data/test_file.csv"]
            assert [item["Key"] for item in s3_client.list_objects_v2(Bucket=exports_bucket)["Contents"]] == [
                "exports/summary.json"]
            assert exports_file["url"] == f"s3://{exports_bucket}/exports/summary.json"
            Path("used.txt").write_text(exports_bucket)

        def test_next_test_gets_both_empty(s3_client, test_s3_bucket, exports_bucket):
            for bucket in (test_s3_bucket, exports_bucket):
                assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        """
    )
    pointed.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)
    used = (pointed.path / "used.txt").read_text()
    assert used not in _buckets(s3_client, "test-exports"), "the factory's bucket outlived its test"


def test_another_server_from_the_factory_runs_beside_the_run_s3_and_stops_with_the_run(project):
    project._monkeypatch.delenv("TEST_S3_BUCKET", raising=False)
    project.makeconftest(SECOND_SERVER)
    project.makepyfile(
        """
        from pathlib import Path

        def test_two_servers(s3_service, s3_client, test_s3_bucket, s3_second, s3_second_client, second_bucket):
            assert (s3_second.mode, s3_second.host) == ("embedded", "127.0.0.1")
            assert s3_second.port != s3_service.port and s3_second.pid != s3_service.pid
            assert second_bucket == test_s3_bucket == "test-narrative-bucket"  # same name, two servers
            s3_second_client.put_object(Bucket=second_bucket, Key="only-on-the-second.txt", Body=b"x")
            assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
            assert s3_second_client.meta.endpoint_url == s3_second.url != s3_client.meta.endpoint_url
            Path("ports.txt").write_text(f"{s3_service.port} {s3_second.port}")
        """
    )
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
    ports = [int(port) for port in (project.path / "ports.txt").read_text().split()]
    assert not any(port_accepts("127.0.0.1", port) for port in ports), "a server outlived its run"
    logs = sorted(path.name for path in Path(project.path, "reports", "services").rglob("s3*.log"))
    assert logs == ["s3-second.log", "s3.log"]
    second_log = next(Path(project.path, "reports", "services").rglob("s3-second.log")).read_text()
    assert f"starting s3 on 127.0.0.1:{ports[1]}" in second_log


def test_a_session_scoped_bucket_from_the_factory_lives_for_the_whole_run(pointed, s3_client):
    pointed.makeconftest(SESSION_BUCKET)
    pointed.makepyfile(
        """
        from pathlib import Path

        def test_first_writes(s3_client, shared_bucket):
            s3_client.put_object(Bucket=shared_bucket, Key="kept.txt", Body=b"for the next test")
            Path("used.txt").write_text(shared_bucket)

        def test_second_reads(s3_client, shared_bucket):
            assert s3_client.get_object(Bucket=shared_bucket, Key="kept.txt")["Body"].read() == b"for the next test"
        """
    )
    pointed.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)
    assert (pointed.path / "used.txt").read_text() not in _buckets(s3_client, "test-shared")


def test_a_factory_bucket_follows_the_word_rule_naming_the_factory(pointed, s3_client):
    owner = "shared-customer-files"
    s3_client.create_bucket(Bucket=owner)
    s3_client.put_object(Bucket=owner, Key="contract.pdf", Body=b"%PDF")
    try:
        pointed.makeconftest(f"from narrative_fixtures.services.s3 import bucket_factory\n"
                             f"theirs = bucket_factory({owner!r})\n")
        pointed.makepyfile(
            "def test_would_write(s3_client, theirs):\n    s3_client.put_object(Bucket=theirs, Key='k', Body=b'x')\n"
        )
        result = pointed.runpytest_inprocess("-p", "no:randomly", "-rE")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([f"*does not start with 'test-'*refusing*bucket_factory(name='{owner}')*"])
        assert [item["Key"] for item in s3_client.list_objects_v2(Bucket=owner)["Contents"]] == ["contract.pdf"]
    finally:
        s3_client.delete_object(Bucket=owner, Key="contract.pdf")
        s3_client.delete_bucket(Bucket=owner)


def test_two_fixtures_of_one_bucket_name_never_empty_each_other(pointed):
    pointed.makeconftest("from narrative_fixtures.services.s3 import bucket_factory\nsame = bucket_factory()\n")
    pointed.makepyfile(
        """
        import pytest

        @pytest.fixture
        def written(s3_client, test_s3_bucket):
            s3_client.put_object(Bucket=test_s3_bucket, Key="precious.txt", Body=b"x")
            return test_s3_bucket

        def test_both(s3_client, written, same):
            pass

        def test_after(s3_client, test_s3_bucket):
            assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0
        """
    )
    result = pointed.runpytest_inprocess("-p", "no:randomly", "-rE")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*already in use by another bucket fixture of this run; refusing*TEST_S3_BUCKET*"])


def test_a_client_of_another_endpoint_is_refused(project):
    mixed = "mixed = bucket_factory('test-mixed', client='s3_client', service='s3_second')\n"
    project.makeconftest(SECOND_SERVER + mixed)
    project.makepyfile("def test_mixed(mixed):\n    pass\n")
    result = project.runpytest_inprocess("-p", "no:randomly", "-rE")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the client 's3_client' reaches http://127.0.0.1:*, not 's3_second' at*"])


def test_a_server_from_the_factory_skips_when_s3_is_turned_off_naming_the_setting(project):
    project._monkeypatch.setenv("TEST_S3_MODE", "off")
    project.makeconftest(SECOND_SERVER)
    project.makepyfile("def test_second(s3_second_client):\n    pass\n")
    result = project.runpytest_inprocess("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*s3 unavailable: s3 is turned off*TEST_S3_MODE=embedded*"])
    assert not list(Path(project.path, "reports", "services").rglob("s3*.log")), "a server started anyway"


# --- the typed endpoint --------------------------------------------------------------------------------------------


def test_the_typed_attributes_hold_the_former_details_values(s3_service):
    details = s3_service.details
    assert (s3_service.region, s3_service.aws, s3_service.bucket) == (
        details["region"], details["aws"], details["bucket"])
    assert (s3_service.host, s3_service.port) == (
        re.match(r"https?://([^:/]+):(\d+)", s3_service.url).group(1), int(s3_service.url.rsplit(":", 1)[1]))
    if s3_service.mode == "embedded":
        assert set(details) == {"pid", "region", "aws", "adds", "bucket"}
        assert (s3_service.pid, s3_service.adds) == (details["pid"], details["adds"])
        assert s3_service.credentials == ("NARRATIVEFAKEACCESSKEY", "narrative-fake-secret-key")
    else:
        assert set(details) == {"region", "aws", "bucket"}
    assert "secret_access_key" not in repr(s3_service)
    assert not s3_service.secret_access_key or s3_service.secret_access_key not in repr(s3_service)


def test_an_endpoint_built_with_old_style_details_keeps_them():
    from narrative_fixtures.services.s3 import S3Endpoint

    endpoint = S3Endpoint("s3", "external", "https://storage.example:9000", "S3 endpoint", "", {"region": "x"})
    assert endpoint.details == {"region": "x"}
    assert (endpoint.host, endpoint.port) == ("storage.example", 9000)
    assert S3Endpoint("s3", "external", "https://storage.example", "S3 endpoint", "").port == 443
