"""No accidental AWS: fake credentials when embedded, explicit opt-in for AWS hosts, no fallback, a host guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures.errors import ConfigError, UnsafeTarget
from narrative_fixtures.services.s3 import EMBEDDED_CREDENTIALS, external_endpoint, is_aws_host, make_client

REAL_LOOKING_KEY = "AKIAIOSFODNN7EXAMPLE"
REAL_LOOKING_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

AWS_ENDPOINTS = [
    "https://s3.amazonaws.com",
    "https://s3.eu-west-1.amazonaws.com",
    "https://my-bucket.s3.us-west-2.amazonaws.com/",
    "https://s3.dualstack.us-east-1.amazonaws.com",
    "https://s3.cn-north-1.amazonaws.com.cn",
    "https://S3.AMAZONAWS.COM.",
]


def test_embedded_mode_signs_with_fake_credentials_whatever_the_environment_holds(project):
    for variable, value in {
        "AWS_ACCESS_KEY_ID": REAL_LOOKING_KEY,
        "AWS_SECRET_ACCESS_KEY": REAL_LOOKING_SECRET,
        "AWS_PROFILE": "production",
        "AWS_ENDPOINT_URL": "https://s3.amazonaws.com",
        "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com",
    }.items():
        project._monkeypatch.setenv(variable, value)
    project._monkeypatch.delenv("TEST_S3_ALLOW_AWS", raising=False)
    project.makepyfile(
        f"""
        from urllib.parse import urlsplit

        def test_signs_with_fakes_on_loopback(s3_client, test_s3_bucket, s3_service):
            assert s3_service.mode == "embedded"
            assert urlsplit(s3_client.meta.endpoint_url).hostname == "127.0.0.1"
            s3_client.put_object(Bucket=test_s3_bucket, Key="k", Body=b"v")  # reaches the embedded server
            link = s3_client.generate_presigned_url("get_object", Params={{"Bucket": test_s3_bucket, "Key": "k"}})
            assert "X-Amz-Credential={EMBEDDED_CREDENTIALS[0]}" in link
            assert "{REAL_LOOKING_KEY}" not in link
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")  # its own registry: a new embedded server starts
    result.assert_outcomes(passed=1)
    written = result.stdout.str() + result.stderr.str()
    logs = "".join(path.read_text() for path in Path(project.path, "reports", "services").glob("s3*.log"))
    assert REAL_LOOKING_SECRET not in written + logs
    assert REAL_LOOKING_KEY not in logs


@pytest.mark.parametrize("endpoint", AWS_ENDPOINTS[1:3])  # every form is checked by the unit test below
def test_an_aws_endpoint_without_the_opt_in_fails_naming_it(project, endpoint):
    project._monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
    project._monkeypatch.delenv("TEST_S3_ALLOW_AWS", raising=False)
    project.makepyfile(
        """
        def test_touches_s3(s3_client):
            s3_client.list_buckets()
        """
    )
    result = project.runpytest_inprocess("-rE")
    result.assert_outcomes(errors=1)  # a configuration error fails: it is never skipped away
    result.stdout.fnmatch_lines(["*S3_ENDPOINT_URL=* is real AWS S3: set TEST_S3_ALLOW_AWS=1 to opt in*"])


@pytest.mark.parametrize("endpoint", AWS_ENDPOINTS)
def test_an_aws_endpoint_is_accepted_only_with_the_opt_in(endpoint):
    with pytest.raises(ConfigError, match="TEST_S3_ALLOW_AWS"):
        external_endpoint(endpoint, allow_aws=False)
    assert external_endpoint(endpoint, allow_aws=True) == endpoint.rstrip("/")


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "localstack", "minio.internal", "amazonaws.com.example.org", "notamazonaws.com"]
)
def test_other_hosts_are_not_mistaken_for_aws(host):
    assert not is_aws_host(host)
    assert external_endpoint(f"http://{host}:4566", allow_aws=False) == f"http://{host}:4566"


@pytest.mark.parametrize("endpoint", ["", "   ", None])
def test_an_empty_endpoint_never_falls_back_to_aws(endpoint):
    with pytest.raises(ConfigError, match="S3_ENDPOINT_URL is empty"):
        external_endpoint(endpoint, allow_aws=True)
    with pytest.raises(ConfigError, match="S3_ENDPOINT_URL is empty"):
        make_client(endpoint, credentials=("k", "s"), region="us-east-1")


def test_external_mode_without_an_endpoint_means_the_local_localstack():
    settings = cfg.resolve({}, {"TEST_S3_MODE": "external", "S3_ENDPOINT_URL": ""}, {}, Path("."))
    assert settings["s3"]["endpoint_url"] == "http://localhost:4566"


def test_the_client_refuses_a_request_redirected_to_another_host():
    client = make_client("http://127.0.0.1:9", credentials=EMBEDDED_CREDENTIALS, region="us-east-1")
    sent = []

    def redirect_to_aws(request, **kwargs):
        request.url = "https://s3.amazonaws.com/"

    client.meta.events.register("request-created.s3", redirect_to_aws)
    client.meta.events.register_last("before-send.s3", lambda request, **kwargs: sent.append(request.url))
    with pytest.raises(UnsafeTarget, match="S3 request to s3.amazonaws.com refused"):
        client.list_buckets()
    assert sent == []
    client.close()
