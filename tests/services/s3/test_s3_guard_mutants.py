"""The AWS guard's pieces called directly, on a stand-in of botocore's HTTP session: the mutation run found its
patching, its undoing and its end-of-run hook checked only by nested runs (which it leaves out)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from narrative_fixtures.core.import_hooks import PatchOnImport
from narrative_fixtures.errors import UnsafeTarget
from narrative_fixtures.services.s3 import guard


class _Session:
    """Stands in for botocore.httpsession.URLLib3Session: ``send`` answers without any network."""

    def send(self, request):
        return ("sent", request.url)


def _stand_in_module():
    return SimpleNamespace(URLLib3Session=type("URLLib3Session", (_Session,), {}))


@pytest.fixture
def patched(monkeypatch):
    """The guard's record of its patches, for this test only (the run's own patch of botocore stays as it is)."""
    monkeypatch.setattr(guard, "_PATCHED", [])
    return guard._PATCHED


def test_the_guard_patches_the_session_class_so_aws_hosts_are_refused_and_others_sent(patched):
    module = _stand_in_module()
    original = module.URLLib3Session.send
    guard._patch(module)
    assert patched == [(module.URLLib3Session, original)]
    assert module.URLLib3Session.send._narrative_guard is True
    session = module.URLLib3Session()
    assert session.send(SimpleNamespace(url="http://127.0.0.1:9/bucket")) == ("sent", "http://127.0.0.1:9/bucket")
    with pytest.raises(UnsafeTarget, match="real AWS .s3.amazonaws.com."):
        session.send(SimpleNamespace(url="https://s3.amazonaws.com/bucket"))
    with pytest.raises(UnsafeTarget, match="not up in this process yet"):
        session.send(SimpleNamespace(url=guard.NOT_STARTED_URL + "/bucket"))


def test_a_session_class_is_patched_once_however_often_its_module_is_seen(patched):
    module = _stand_in_module()
    original = module.URLLib3Session.send
    guard._patch(module)
    guard._patch(module)
    assert len(patched) == 1 and module.URLLib3Session.send.__wrapped__ is original


def test_a_module_without_the_session_class_is_left_alone(patched):
    module = SimpleNamespace()
    guard._patch(module)
    assert patched == [] and vars(module) == {}


def test_undoing_the_patches_gives_each_class_its_own_send_back(patched):
    module = _stand_in_module()
    original = module.URLLib3Session.send
    guard._patch(module)
    guard._unpatch_all()
    assert module.URLLib3Session.send is original and patched == []


def test_the_last_uninstall_undoes_the_patches_and_gives_the_environment_back(patched, monkeypatch):
    module = _stand_in_module()
    original = module.URLLib3Session.send
    monkeypatch.setattr(guard, "_FINDER", PatchOnImport(("a.module.never.imported",), guard._patch))
    environment = dict(os.environ)
    saved = guard.install()
    guard._patch(module)
    assert guard.installed() and module.URLLib3Session.send is not original
    guard.uninstall(saved)
    assert not guard.installed() and module.URLLib3Session.send is original and patched == []
    assert dict(os.environ) == environment


def test_the_end_of_the_run_uninstalls_what_its_start_installed(monkeypatch):
    given_back = []
    monkeypatch.setattr(guard, "uninstall", given_back.append)
    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[guard.SAVED_KEY] = {"AWS_PROFILE": "the-users-profile"}
    guard.pytest_unconfigure(config)
    assert given_back == [{"AWS_PROFILE": "the-users-profile"}]
    assert guard.SAVED_KEY not in config.stash
    guard.pytest_unconfigure(config)  # nothing installed (the opt-in): nothing to give back
    assert given_back == [{"AWS_PROFILE": "the-users-profile"}]


@pytest.fixture
def own_guard(monkeypatch):
    """A guard of this test's own (its first install is the first user), the user's AWS environment before it.

    Its patches are its own too: its last uninstall undoes only them, never the run's patch of botocore (which
    left the rest of the session unguarded, seen as a CI failure in random order)."""
    monkeypatch.setattr(guard, "_FINDER", PatchOnImport(("a.module.never.imported",), guard._patch))
    monkeypatch.setattr(guard, "_PATCHED", [])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-users-session-token")
    monkeypatch.setenv("AWS_PROFILE", "production")
    for name in ("AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_S3", "MOTO_S3_CUSTOM_ENDPOINTS"):  # the run's guard's
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _installed_environment() -> dict[str, str]:
    saved = guard.install()
    try:
        return {name: os.environ[name] for name in guard.HIDDEN_VARIABLES if name in os.environ}
    finally:
        guard.uninstall(saved)


@pytest.mark.parametrize("users_endpoints, watched", [
    ("", guard.NOT_STARTED_URL),
    ("http://my-mocked-s3:1", f"{guard.NOT_STARTED_URL},http://my-mocked-s3:1"),
], ids=["none-of-the-users", "the-users-kept"])
def test_installed_the_guard_leaves_only_fake_keys_and_points_default_clients_at_the_refused_address(
        own_guard, users_endpoints, watched):
    own_guard.setenv("MOTO_S3_CUSTOM_ENDPOINTS", users_endpoints)
    assert _installed_environment() == {
        "AWS_ACCESS_KEY_ID": guard.FAKE_CREDENTIALS[0],
        "AWS_SECRET_ACCESS_KEY": guard.FAKE_CREDENTIALS[1],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_S3": guard.NOT_STARTED_URL,
        "MOTO_S3_CUSTOM_ENDPOINTS": watched,
    }
    assert os.environ["AWS_PROFILE"] == "production" and "AWS_EC2_METADATA_DISABLED" not in os.environ


def test_default_clients_follow_the_runs_s3_only_while_the_guard_is_installed(own_guard):
    saved = guard.install()
    try:
        guard.point_default_clients_at("http://127.0.0.1:4566")
        assert os.environ["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:4566"
        assert os.environ["MOTO_S3_CUSTOM_ENDPOINTS"] == f"{guard.NOT_STARTED_URL},http://127.0.0.1:4566"
    finally:
        guard.uninstall(saved)
    guard.point_default_clients_at("http://127.0.0.1:4566")  # not installed: the environment is the user's
    assert "AWS_ENDPOINT_URL_S3" not in os.environ and "MOTO_S3_CUSTOM_ENDPOINTS" not in os.environ


def test_pointing_default_clients_again_names_each_address_once_even_after_a_test_removed_the_list(own_guard):
    saved = guard.install()
    try:
        guard.point_default_clients_at("http://127.0.0.1:4566")
        guard.point_default_clients_at("http://127.0.0.1:4566")
        assert os.environ["MOTO_S3_CUSTOM_ENDPOINTS"] == f"{guard.NOT_STARTED_URL},http://127.0.0.1:4566"
        del os.environ["MOTO_S3_CUSTOM_ENDPOINTS"]  # as a test's own code may do
        guard.point_default_clients_at("http://127.0.0.1:4567")
        assert os.environ["MOTO_S3_CUSTOM_ENDPOINTS"] == f"{guard.NOT_STARTED_URL},http://127.0.0.1:4567"
    finally:
        guard.uninstall(saved)


def test_each_refusal_says_why_in_one_line_and_what_to_use_instead():
    assert guard.refusal(guard.NOT_STARTED_URL + "/test-bucket") == (
        "narrative-fixtures refused a default boto3 S3 request: the run's S3 is not up in this process yet."
        " Use the s3_client fixture, or request s3_service first (default clients then reach the run's S3)")
    assert guard.refusal("https://S3.eu-west-1.amazonaws.com/test-bucket") == (
        "narrative-fixtures refused a request to real AWS (s3.eu-west-1.amazonaws.com) during the test run: tests"
        " never reach AWS nor see your AWS credentials unless TEST_S3_ALLOW_AWS=1; use the s3_client fixture")


def test_a_url_without_a_host_is_not_refused():
    assert guard.refusal("/test-bucket/key") == "" and guard.refusal("http://127.0.0.1:9/test-bucket") == ""
