"""The S3 clients called directly: the private boto3 session (made once, blind to the user's profile and AWS files),
``client_for`` (the endpoint's region, its host guard, the timeouts given), a presigned link's lifetime and signing
time, and an error's code. Nothing is sent: the endpoint's port has no server."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from narrative_fixtures.errors import UnsafeTarget
from narrative_fixtures.services.s3 import clients
from narrative_fixtures.services.s3.clients import (
    TIMEOUT_S,
    _error_code,
    _session,
    client_for,
    make_client,
    presigned_get_url,
)
from narrative_fixtures.services.s3.endpoint import S3Endpoint

URL = "http://127.0.0.1:9"


def _endpoint(aws: bool = False) -> S3Endpoint:
    return S3Endpoint("s3", "external", URL, "LocalStack", "3", region="eu-west-3", aws=aws,
                      access_key_id="AKIAEXAMPLEKEYID", secret_access_key="the-secret-access-key")


def _refused(client, url: str) -> bool:
    """Whether the client's host guard refuses a request for ``url`` (botocore's before-send event, emitted here)."""
    try:
        client.meta.events.emit("before-send.s3.ListBuckets", request=SimpleNamespace(url=url))
    except UnsafeTarget:
        return True
    return False


def _query(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


@pytest.fixture
def fresh_session(monkeypatch):
    """As in a new process: the private session is made on the next call, from the environment set by the test."""
    monkeypatch.setattr(clients, "_BOTO3_SESSION", None)
    monkeypatch.setenv("AWS_PROFILE", "a-profile-of-the-user")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/the/users/aws/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/the/users/aws/credentials")
    return monkeypatch


def test_the_private_session_is_made_once(fresh_session):
    session = _session()
    assert session is _session() is clients._BOTO3_SESSION


def test_the_private_session_ignores_the_users_profile_and_aws_files(fresh_session):
    core = _session()._session
    assert core.get_config_variable("profile") is None
    assert core.get_config_variable("config_file") == os.devnull
    assert core.get_config_variable("credentials_file") == os.devnull
    client = client_for(_endpoint())  # a profile that does not exist would fail here
    assert client.meta.region_name == "eu-west-3"


def test_a_client_for_an_endpoint_signs_for_its_region_and_refuses_other_hosts():
    client = client_for(_endpoint())
    assert client.meta.region_name == "eu-west-3" and client.meta.endpoint_url == URL
    assert not _refused(client, URL + "/test-bucket")
    assert _refused(client, "http://127.0.0.2:9/test-bucket")


def test_a_client_for_real_aws_has_no_host_guard():
    assert not _refused(client_for(_endpoint(aws=True)), "https://s3.eu-west-3.amazonaws.com/test-bucket")


def test_a_client_for_an_endpoint_keeps_the_timeouts_given():
    config = client_for(_endpoint(), connect_timeout=5, read_timeout=7).meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 7)


@pytest.mark.parametrize("issued_at", [None, datetime.now(timezone.utc) - timedelta(minutes=5)], ids=["now", "past"])
def test_a_presigned_link_lives_the_seconds_asked_for(issued_at):
    link = presigned_get_url(client_for(_endpoint()), "test-bucket", "a/key.csv", 37, issued_at=issued_at)
    assert _query(link)["X-Amz-Expires"] == "37" and urlsplit(link).path == "/test-bucket/a/key.csv"


def test_an_old_link_is_signed_at_the_time_given_in_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # nine hours ahead of UTC, no daylight saving
    time.tzset()
    try:
        issued_at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
        link = presigned_get_url(client_for(_endpoint()), "test-bucket", "k", 60, issued_at=issued_at)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert _query(link)["X-Amz-Date"] == "20240506T050809Z"


@pytest.mark.parametrize("response", [{}, {"Error": {}}, {"Error": {"Message": "no code"}}])
def test_an_error_without_a_code_has_an_empty_one(response):
    assert _error_code(ClientError(response, "HeadBucket")) == ""


def test_an_error_code_is_read_from_the_answer():
    assert _error_code(ClientError({"Error": {"Code": "NoSuchBucket"}}, "HeadBucket")) == "NoSuchBucket"


def test_a_client_has_the_fixtures_timeouts_one_attempt_path_style_sigv4_and_checksums_only_where_required():
    client = make_client(URL, credentials=("AKIAEXAMPLEKEYID", "the-secret-access-key"), region="eu-west-3")
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (TIMEOUT_S, TIMEOUT_S) == (2, 2)
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"} and config.signature_version == "s3v4"
    assert config.request_checksum_calculation == config.response_checksum_validation == "when_required"
    assert (client.meta.endpoint_url, client.meta.region_name) == (URL, "eu-west-3")
    signed_with = client._request_signer._credentials
    assert (signed_with.access_key, signed_with.secret_key, signed_with.token) == (
        "AKIAEXAMPLEKEYID", "the-secret-access-key", None)


def test_a_loopback_endpoint_is_reached_without_proxies_another_one_with_the_environments(monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-users-session-token")  # never sent: the client has its key pair
    loopback = make_client("http://localhost:9", credentials=("k", "s"), region="us-east-1")
    remote = make_client("http://minio.internal:9000", credentials=("k", "s"), region="us-east-1")
    assert loopback.meta.config.proxies == {} and remote.meta.config.proxies is None
    assert loopback._request_signer._credentials.token is None


def test_the_host_guard_compares_host_and_port_whatever_their_case_and_can_be_turned_off():
    client = make_client("http://LocalHost:9", credentials=("k", "s"), region="us-east-1")
    assert not _refused(client, "http://localhost:9/test-bucket")
    assert not _refused(client, "http://LOCALHOST:9/test-bucket")
    assert _refused(client, "http://localhost:10/test-bucket")
    unguarded = make_client("http://localhost:9", credentials=("k", "s"), region="us-east-1", guard=False)
    assert not _refused(unguarded, "http://minio.internal:9000/test-bucket")


def test_the_host_guard_refuses_before_any_handler_registered_earlier_sees_the_request():
    client = make_client(URL, credentials=("k", "s"), region="us-east-1")
    seen = []
    client.meta.events.register("before-send.s3", lambda request, **kwargs: seen.append(request.url))
    with pytest.raises(UnsafeTarget, match=r"S3 request to 127\.0\.0\.2:9 refused: this client may only reach "
                                           r"S3_ENDPOINT_URL=http://127\.0\.0\.1:9"):
        client.meta.events.emit("before-send.s3.ListBuckets", request=SimpleNamespace(url="http://127.0.0.2:9/"))
    assert seen == []
