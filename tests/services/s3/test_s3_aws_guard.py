"""No accidental AWS: fake credentials when embedded, explicit opt-in for AWS hosts, no fallback, a host guard."""

from __future__ import annotations

import os
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
    logs = "".join(path.read_text() for path in Path(project.path, "reports", "services").rglob("s3*.log"))
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


# --- default boto3 clients inside a test (issue 11, case 8) -------------------------------------------------------

REAL_LOOKING_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken"

DEFAULT_CLIENTS = f"""
import os, socket, threading
import boto3, pytest

SECRETS = ("{REAL_LOOKING_KEY}", "{REAL_LOOKING_SECRET}", "{REAL_LOOKING_TOKEN}")


@pytest.fixture
def looked_up(monkeypatch):
    hosts = []
    real = socket.getaddrinfo
    def recording(host, *args, **kwargs):
        hosts.append(str(host))
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", recording)
    yield hosts
    assert not [host for host in hosts if "amazonaws" in host], hosts


# The guard refuses the call on its first attempt: one send attempt (no retry, no backoff), no DNS lookup and no
# connection made (what "at once" means, asserted without a clock).
def refused_at_once(client, call, match):
    attempts, lookups, connects = [], [], []
    client.meta.events.register("before-send", lambda request, **kwargs: attempts.append(request.url))
    real_lookup, real_connect = socket.getaddrinfo, socket.socket.connect
    caller = threading.get_ident()  # this test's lookups and connections, not a server's readiness probes

    def lookup(host, *args, **kwargs):
        if threading.get_ident() == caller:
            lookups.append(host)
        return real_lookup(host, *args, **kwargs)

    def connect(sock, address):
        if threading.get_ident() == caller:
            connects.append(address)
        return real_connect(sock, address)
    socket.getaddrinfo, socket.socket.connect = lookup, connect
    try:
        with pytest.raises(Exception, match=match):
            getattr(client, call)()
    finally:
        socket.getaddrinfo, socket.socket.connect = real_lookup, real_connect
    assert (len(attempts), lookups, connects) == (1, [], []), (attempts, lookups, connects)


def test_1_the_real_key_is_not_visible_in_the_environment():
    assert not [name for name, value in os.environ.items() if value in SECRETS]
    assert "AWS_PROFILE" not in os.environ


def test_2_before_the_runs_s3_is_up_a_default_client_is_refused_at_once(looked_up):
    client = boto3.client("s3", region_name="us-east-1")
    assert "amazonaws" not in client.meta.endpoint_url
    refused_at_once(client, "list_buckets", "s3_client")


def test_3_a_default_client_reaches_the_runs_s3(s3_service, s3_client, test_s3_bucket, looked_up):
    client = boto3.client("s3", region_name="us-east-1")
    assert client.meta.endpoint_url == s3_service.url
    client.put_object(Bucket=test_s3_bucket, Key="by-the-default-client.txt", Body=b"v")
    assert s3_client.get_object(Bucket=test_s3_bucket, Key="by-the-default-client.txt")["Body"].read() == b"v"


@pytest.mark.parametrize("service, call, extra", [
    ("s3", "list_buckets", {{"endpoint_url": "https://s3.amazonaws.com"}}),
    ("s3", "list_buckets", {{"endpoint_url": "https://s3.eu-west-1.amazonaws.com"}}),
    ("sts", "get_caller_identity", {{}}),
])
def test_4_a_request_for_an_aws_host_never_leaves(looked_up, service, call, extra):
    client = boto3.client(service, region_name="us-east-1", **extra)
    refused_at_once(client, call, "TEST_S3_ALLOW_AWS")
"""


def _real_looking_aws_environment(project) -> None:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": REAL_LOOKING_KEY,
        "AWS_SECRET_ACCESS_KEY": REAL_LOOKING_SECRET,
        "AWS_SESSION_TOKEN": REAL_LOOKING_TOKEN,
        "AWS_PROFILE": "production",
    }.items():
        project._monkeypatch.setenv(variable, value)
    project._monkeypatch.delenv("TEST_S3_ALLOW_AWS", raising=False)


def test_default_boto3_clients_in_a_test_never_reach_aws_nor_see_the_real_key(project):
    _real_looking_aws_environment(project)
    project.makepyfile(test_default_clients=DEFAULT_CLIENTS)
    endpoint_before = os.environ.get("AWS_ENDPOINT_URL_S3")  # this outer run's own guard set it
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=6)
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == REAL_LOOKING_SECRET, "the user's environment was not given back"
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ.get("AWS_ENDPOINT_URL_S3") == endpoint_before
    assert REAL_LOOKING_SECRET not in result.stdout.str() + result.stderr.str()


EXTERNAL_SIGNS_WITH_THE_SETTINGS = """
import os

def test_signs_with_the_configured_key(s3_client, test_s3_bucket, s3_service):
    assert s3_service.mode == "external"
    link = s3_client.generate_presigned_url("get_object", Params={"Bucket": test_s3_bucket, "Key": "k"})
    assert "X-Amz-Credential=TARGETACCESSKEY" in link
    assert os.environ["AWS_ACCESS_KEY_ID"] != "TARGETACCESSKEY"
    assert "target-secret-value" not in os.environ.values()
"""


@pytest.mark.parametrize("parallel", [(), ("-n", "2")], ids=["one-process", "xdist-workers"])
def test_external_mode_still_uses_the_credentials_resolved_before_they_were_hidden(project, s3_service, parallel):
    project._monkeypatch.setenv("S3_ENDPOINT_URL", s3_service.url)
    project._monkeypatch.setenv("AWS_ACCESS_KEY_ID", "TARGETACCESSKEY")
    project._monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "target-secret-value")
    project.makepyfile(
        test_external="import pytest\n" + EXTERNAL_SIGNS_WITH_THE_SETTINGS.replace(
            "def test_signs", "@pytest.mark.parametrize('n', range(2))\ndef test_signs"
        ).replace("(s3_client,", "(n, s3_client,")
    )
    if parallel:
        result = project.runpytest_subprocess("-p", "no:randomly", *parallel)
    else:
        result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


MOCK_AWS_STILL_WORKS = """
import boto3
from moto import mock_aws

def _in_a_mock():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="mocked-bucket")
        client.put_object(Bucket="mocked-bucket", Key="k", Body=b"mocked")
        return client.get_object(Bucket="mocked-bucket", Key="k")["Body"].read()

def test_before_the_runs_s3_is_up():
    assert _in_a_mock() == b"mocked"

def test_with_the_runs_s3(s3_client, test_s3_bucket):
    assert _in_a_mock() == b"mocked"
    assert "mocked-bucket" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
"""


def test_a_tests_own_mock_aws_still_answers_default_clients(project):
    project.makepyfile(test_mocked=MOCK_AWS_STILL_WORKS)
    result = project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_with_the_aws_opt_in_the_environment_is_left_as_it_is(project):
    _real_looking_aws_environment(project)
    project._monkeypatch.setenv("TEST_S3_ALLOW_AWS", "1")
    project._monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)  # as a user's shell would be
    project.makepyfile(
        f"""
        import os

        def test_sees_the_users_settings():
            assert os.environ["AWS_SECRET_ACCESS_KEY"] == "{REAL_LOOKING_SECRET}"
            assert "AWS_ENDPOINT_URL_S3" not in os.environ
        """
    )
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
