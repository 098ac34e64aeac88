"""The bucket janitor called directly (in-process, the run's S3): the paths the mutation run found unchecked.

The token proof when the key may not list buckets, refusals naming the setting, a failed create, a listing error,
emptying versions, delete markers, uploads and batches of 1000, and the record of what this process created.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from narrative_fixtures.errors import ConfigError, UnsafeTarget
from narrative_fixtures.services.common import worker_suffix
from narrative_fixtures.services.s3.clients import make_client
from narrative_fixtures.services.s3.janitor import (
    OWNER_TAG,
    RUN_TAG,
    TOKEN_TAG,
    BucketJanitor,
    bucket_name,
    owned_bucket,
)


def _refusal(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (scripted)"}}, operation)


class Scripted:
    """The run's client, with some operations answered by a script (an error to raise or a reply to return)."""

    def __init__(self, client, **script) -> None:
        self._client = client
        self.script = script
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, name: str):
        if name not in self.script:
            return getattr(self._client, name)

        def answer(*args, **kwargs):
            self.calls.append((name, kwargs))
            reply = self.script[name]
            if isinstance(reply, Exception):
                raise reply
            return reply(*args, **kwargs) if callable(reply) else reply

        return answer


def no_listing(client) -> Scripted:
    """A key that may not list buckets (AccessDenied on ListBuckets): ownership rests on the token tag."""
    return Scripted(client, list_buckets=_refusal("AccessDenied", "ListBuckets"))


def _name(word: str) -> str:
    return f"test-{word}-{uuid.uuid4().hex[:8]}"


def _exists(client, name: str) -> bool:
    try:
        client.head_bucket(Bucket=name)
        return True
    except ClientError:
        return False


def _tags(client, name: str) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in client.get_bucket_tagging(Bucket=name)["TagSet"]}


def _keys(client, name: str) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])]


@pytest.fixture
def by_hand(s3_client):
    """Names of buckets a test may leave behind; removed afterwards with every version, whoever made them."""
    names: list[str] = []
    yield names
    for name in names:
        if _exists(s3_client, name):
            versions = s3_client.list_object_versions(Bucket=name)
            for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                s3_client.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
            for upload in s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
                s3_client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
            s3_client.delete_bucket(Bucket=name)


# --- names ------------------------------------------------------------------------------------------------------


def test_a_bucket_name_is_the_configured_one_then_the_run_id():
    assert bucket_name("test-exports") == "test-exports" + worker_suffix("-")
    assert bucket_name("test-exports", "run42") == "test-exports-run42" + worker_suffix("-")
    assert bucket_name(None, "run42") == "-run42" + worker_suffix("-")


def test_a_long_name_is_cut_to_s3s_63_characters_without_a_trailing_dash_or_dot():
    suffix = "-r1" + worker_suffix("-")
    room = 63 - len(suffix)
    exact = "test-" + "a" * (room - 5)
    assert bucket_name(exact, "r1") == exact + suffix  # exactly 63: nothing cut
    cut_at_separators = "test-" + "a" * (room - 7) + "-." + "z" * 10
    name = bucket_name(cut_at_separators, "r1")
    assert name == "test-" + "a" * (room - 7) + suffix
    assert len(name) == 61


# --- refusals name the setting ----------------------------------------------------------------------------------


def test_a_name_without_the_test_prefix_is_refused_naming_the_setting(s3_client):
    janitor = BucketJanitor(s3_client, "prod-exports", "us-east-1", setting="exports_bucket(name=...)")
    with pytest.raises(UnsafeTarget, match=r"^bucket 'prod-exports' does not start with 'test-'.*exports_bucket"):
        janitor.create()
    assert not _exists(s3_client, "prod-exports")


def test_a_bucket_held_by_another_fixture_is_refused_until_that_one_is_removed(s3_client, by_hand):
    name = _name("held")
    by_hand.append(name)
    first = BucketJanitor(s3_client, name, "us-east-1")
    first.create()
    s3_client.put_object(Bucket=name, Key="in-use.txt", Body=b"x")
    second = BucketJanitor(s3_client, name, "us-east-1", setting="SECOND_SETTING")
    with pytest.raises(UnsafeTarget, match=f"bucket '{name}' is already in use.*SECOND_SETTING"):
        second.create()
    assert _keys(s3_client, name) == ["in-use.txt"]
    first.remove()
    assert second.create() == name and _keys(s3_client, name) == []
    second.remove()
    assert not _exists(s3_client, name)


def test_a_bucket_that_answers_403_is_someone_elses_and_refused(s3_client):
    scripted = Scripted(s3_client, head_bucket=_refusal("403", "HeadBucket"))
    janitor = BucketJanitor(scripted, _name("forbidden"), "us-east-1", setting="MY_SETTING")
    with pytest.raises(UnsafeTarget, match=r"exists but is not accessible \(403\).*Set MY_SETTING to another name"):
        janitor.create()
    assert [call for call, _ in scripted.calls] == ["head_bucket"]


def test_a_bucket_s3_will_not_create_is_a_configuration_error_with_its_code(s3_client):
    name = _name("refused")
    scripted = Scripted(s3_client, create_bucket=_refusal("BucketAlreadyExists", "CreateBucket"))
    janitor = BucketJanitor(scripted, name, "us-east-1", setting="MY_SETTING")
    with pytest.raises(ConfigError, match=rf"^cannot create bucket '{name}' \(BucketAlreadyExists\); set MY_SETTING$"):
        janitor.create()


def test_an_error_listing_buckets_other_than_access_denied_is_not_taken_for_a_key_without_listing(s3_client, by_hand):
    name = _name("list-fails")
    by_hand.append(name)
    scripted = Scripted(s3_client, list_buckets=_refusal("InternalError", "ListBuckets"))
    with pytest.raises(ClientError, match="InternalError"):
        BucketJanitor(scripted, name, "us-east-1").create()


# --- where and how a bucket is created -----------------------------------------------------------------------------


def test_a_bucket_outside_us_east_1_is_created_in_its_region(s3_service, by_hand):
    client = make_client(s3_service.url, credentials=s3_service.credentials, region="eu-west-1")
    name = _name("eu")
    by_hand.append(name)
    try:
        janitor = BucketJanitor(client, name, "eu-west-1")
        janitor.create()
        assert client.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        janitor.remove()
        assert not _exists(client, name)
    finally:
        client.close()


def test_a_created_bucket_carries_the_owner_the_run_and_a_secret_token(s3_client, by_hand):
    name = _name("tagged")
    by_hand.append(name)
    janitor = BucketJanitor(s3_client, name, "us-east-1", run_id="run42")
    assert janitor.create() == name
    tags = _tags(s3_client, name)
    assert tags[OWNER_TAG["Key"]] == OWNER_TAG["Value"] and tags[RUN_TAG] == "run42"
    assert len(tags[TOKEN_TAG]) == 32 and set(tags) == {OWNER_TAG["Key"], RUN_TAG, TOKEN_TAG}
    janitor.remove()


# --- ownership when the key may not list buckets: the token ------------------------------------------------------


def test_without_listing_a_leftover_of_this_process_is_proven_by_its_token_and_replaced(s3_client, by_hand):
    name = _name("token")
    by_hand.append(name)
    failing = no_listing(s3_client)
    failing.script["delete_bucket"] = _refusal("InternalError", "DeleteBucket")  # the teardown fails once
    first = BucketJanitor(failing, name, "us-east-1")
    first.create()
    token = _tags(s3_client, name)[TOKEN_TAG]
    s3_client.put_object(Bucket=name, Key="left-by-a-failed-teardown.txt", Body=b"x")
    with pytest.raises(ClientError, match="InternalError"):
        first.remove()
    assert _exists(s3_client, name)

    again = BucketJanitor(no_listing(s3_client), name, "us-east-1")
    assert again.create() == name  # its own leftover: emptied, deleted, created afresh
    assert _keys(s3_client, name) == [] and _tags(s3_client, name)[TOKEN_TAG] != token
    again.remove()
    assert not _exists(s3_client, name)


def test_without_listing_a_bucket_whose_token_changed_is_left_untouched(s3_client, by_hand):
    name = _name("retoken")
    by_hand.append(name)
    janitor = BucketJanitor(no_listing(s3_client), name, "us-east-1", setting="MY_SETTING")
    janitor.create()
    s3_client.put_object(Bucket=name, Key="customers/contract.pdf", Body=b"%PDF")
    tags = [OWNER_TAG, {"Key": TOKEN_TAG, "Value": "someone-elses-token"}]
    s3_client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
    with pytest.raises(UnsafeTarget, match=f"bucket '{name}' is no longer the one.*MY_SETTING={name}"):
        janitor.remove()
    assert _keys(s3_client, name) == ["customers/contract.pdf"]


def test_without_listing_a_bucket_whose_tags_were_removed_is_left_untouched(s3_client, by_hand):
    name = _name("untagged")
    by_hand.append(name)
    janitor = BucketJanitor(no_listing(s3_client), name, "us-east-1")
    janitor.create()
    s3_client.put_object(Bucket=name, Key="customers/contract.pdf", Body=b"%PDF")
    s3_client.delete_bucket_tagging(Bucket=name)
    with pytest.raises(UnsafeTarget, match="is no longer the one"):
        janitor.remove()
    assert _keys(s3_client, name) == ["customers/contract.pdf"]


def test_once_removed_the_name_is_no_longer_ours_even_with_the_old_token(s3_client, by_hand):
    name = _name("forgotten")
    by_hand.append(name)
    janitor = BucketJanitor(no_listing(s3_client), name, "us-east-1")
    janitor.create()
    token = _tags(s3_client, name)[TOKEN_TAG]
    janitor.remove()
    assert not _exists(s3_client, name)
    s3_client.create_bucket(Bucket=name)  # someone else's now, carrying the old token as a copied tag
    s3_client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": TOKEN_TAG, "Value": token}]})
    s3_client.put_object(Bucket=name, Key="theirs.txt", Body=b"x")
    with pytest.raises(UnsafeTarget, match="already exists and was not created by these fixtures"):
        BucketJanitor(no_listing(s3_client), name, "us-east-1").create()
    assert _keys(s3_client, name) == ["theirs.txt"]


# --- ownership with listing: the creation date ---------------------------------------------------------------------


def test_a_bucket_listed_with_another_creation_date_is_left_untouched_and_forgotten(s3_client, by_hand):
    name = _name("recreated")
    by_hand.append(name)
    scripted = Scripted(s3_client)
    janitor = BucketJanitor(scripted, name, "us-east-1")
    janitor.create()
    s3_client.put_object(Bucket=name, Key="theirs.txt", Body=b"x")
    later = datetime(2031, 1, 1, tzinfo=timezone.utc)
    scripted.script["list_buckets"] = {"Buckets": [{"Name": name, "CreationDate": later}]}
    with pytest.raises(UnsafeTarget, match="is no longer the one this run created"):
        janitor.remove()
    assert _keys(s3_client, name) == ["theirs.txt"]
    del scripted.script["list_buckets"]  # the true date again: still refused, the record is gone
    with pytest.raises(UnsafeTarget, match="already exists and was not created"):
        BucketJanitor(s3_client, name, "us-east-1").create()


def test_a_bucket_the_test_deleted_itself_is_fine_at_removal_and_forgotten(s3_client, by_hand):
    name = _name("self-deleted")
    by_hand.append(name)
    janitor = BucketJanitor(s3_client, name, "us-east-1")
    janitor.create()
    s3_client.delete_bucket(Bucket=name)
    janitor.remove()  # nothing to do, no error
    s3_client.create_bucket(Bucket=name)
    with pytest.raises(UnsafeTarget, match="already exists and was not created"):
        BucketJanitor(s3_client, name, "us-east-1").create()


def test_a_bucket_deleted_between_the_check_and_the_delete_is_fine(s3_client, by_hand):
    name = _name("raced")
    by_hand.append(name)
    scripted = Scripted(s3_client, delete_bucket=_refusal("NoSuchBucket", "DeleteBucket"))
    janitor = BucketJanitor(scripted, name, "us-east-1")
    janitor.create()
    janitor.remove()  # NoSuchBucket at the end: someone removed it meanwhile, not an error
    assert ("delete_bucket", {"Bucket": name}) in scripted.calls


# --- emptying ----------------------------------------------------------------------------------------------------


def test_removal_takes_every_version_delete_marker_and_unfinished_upload(s3_client, by_hand):
    name = _name("versions")
    by_hand.append(name)
    janitor = BucketJanitor(s3_client, name, "us-east-1")
    janitor.create()
    s3_client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3_client.put_object(Bucket=name, Key="report.csv", Body=body)
    s3_client.put_object(Bucket=name, Key="deleted.csv", Body=b"x")
    s3_client.delete_object(Bucket=name, Key="deleted.csv")  # leaves a delete marker
    s3_client.create_multipart_upload(Bucket=name, Key="half-uploaded.bin")
    janitor.empty()
    versions = s3_client.list_object_versions(Bucket=name)
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []
    assert s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    janitor.remove()
    assert not _exists(s3_client, name)


class _Pages:
    def __init__(self, pages: dict[str, list[dict]]) -> None:
        self.pages = pages

    def __call__(self, name: str):
        pages = self.pages[name]
        return type("Paginator", (), {"paginate": lambda self, **kwargs: iter(pages)})()


def _versions(count: int, prefix: str) -> list[dict]:
    return [{"Key": f"{prefix}{number}", "VersionId": f"v{number}"} for number in range(count)]


def test_emptying_deletes_at_most_1000_keys_per_request_quietly(s3_client):
    pages = {
        "list_multipart_uploads": [{"Uploads": [{"Key": "half.bin", "UploadId": "u1"}]}],
        "list_object_versions": [{"Versions": _versions(1001, "k"), "DeleteMarkers": _versions(1, "marker")}],
    }
    scripted = Scripted(
        s3_client, get_paginator=_Pages(pages), abort_multipart_upload={}, delete_objects={"Deleted": []}
    )
    BucketJanitor(scripted, "test-batches", "us-east-1").empty()
    calls = dict.fromkeys(name for name, _ in scripted.calls)
    assert list(calls) == ["get_paginator", "abort_multipart_upload", "delete_objects"]
    assert ("abort_multipart_upload", {"Bucket": "test-batches", "Key": "half.bin", "UploadId": "u1"}) in scripted.calls
    batches = [kwargs for name, kwargs in scripted.calls if name == "delete_objects"]
    assert [len(batch["Delete"]["Objects"]) for batch in batches] == [1000, 2]
    assert all(batch["Delete"]["Quiet"] is True and batch["Bucket"] == "test-batches" for batch in batches)
    deleted = [item for batch in batches for item in batch["Delete"]["Objects"]]
    assert deleted == _versions(1001, "k") + _versions(1, "marker")


def test_an_object_s3_will_not_delete_stops_the_cleaning_naming_it(s3_client):
    pages = {"list_multipart_uploads": [{}], "list_object_versions": [{"Versions": _versions(2, "k")}]}
    errors = {"Errors": [{"Key": "k1", "Message": "Access Denied"}, {"Key": "k0", "Message": "other"}]}
    scripted = Scripted(s3_client, get_paginator=_Pages(pages), delete_objects=errors)
    with pytest.raises(RuntimeError, match=r"^could not delete s3://test-stuck/k1: Access Denied$"):
        BucketJanitor(scripted, "test-stuck", "us-east-1").empty()


# --- more buckets ------------------------------------------------------------------------------------------------


def test_owned_bucket_is_ours_and_empty_inside_and_gone_afterwards(s3_client, by_hand):
    name = _name("owned")
    by_hand.append(name)
    with owned_bucket(s3_client, name, "us-east-1", run_id="run7") as bucket:
        assert bucket == name and _keys(s3_client, name) == [] and _tags(s3_client, name)[RUN_TAG] == "run7"
        s3_client.put_object(Bucket=name, Key="written.txt", Body=b"x")
    assert not _exists(s3_client, name)


# --- second pass: what the first re-run still let through ------------------------------------------------------


def test_an_error_without_a_code_is_reported_with_an_empty_one(s3_client):
    name = _name("codeless")
    scripted = Scripted(s3_client, create_bucket=ClientError({}, "CreateBucket"))  # a proxy's bare answer
    with pytest.raises(ConfigError, match=rf"^cannot create bucket '{name}' \(\); set TEST_S3_BUCKET$"):
        BucketJanitor(scripted, name, "us-east-1").create()


def test_without_listing_a_bucket_whose_tags_hold_no_token_is_left_untouched(s3_client, by_hand):
    name = _name("tokenless")
    by_hand.append(name)
    janitor = BucketJanitor(no_listing(s3_client), name, "us-east-1")
    janitor.create()
    s3_client.put_object(Bucket=name, Key="customers/contract.pdf", Body=b"%PDF")
    s3_client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [OWNER_TAG]})  # tags, but none of them the token
    with pytest.raises(UnsafeTarget, match="is no longer the one"):
        janitor.remove()
    assert _keys(s3_client, name) == ["customers/contract.pdf"]


def test_removing_twice_is_fine(s3_client, by_hand):
    name = _name("twice")
    by_hand.append(name)
    janitor = BucketJanitor(s3_client, name, "us-east-1")
    janitor.create()
    janitor.remove()
    janitor.remove()  # a teardown run again: nothing left to do, no error
    assert not _exists(s3_client, name)


def test_removing_a_bucket_this_process_never_created_refuses_and_touches_nothing(s3_client, by_hand):
    name = _name("never-ours")
    by_hand.append(name)
    s3_client.create_bucket(Bucket=name)
    s3_client.put_object(Bucket=name, Key="theirs.txt", Body=b"x")
    with pytest.raises(UnsafeTarget, match=f"bucket '{name}' is no longer the one this run created"):
        BucketJanitor(s3_client, name, "us-east-1").remove()
    assert _keys(s3_client, name) == ["theirs.txt"]


def test_under_xdist_each_worker_has_a_bucket_of_its_own(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert bucket_name("test-exports") == "test-exports-gw3"
    assert bucket_name("test-exports", "run42") == "test-exports-run42-gw3"


def test_a_name_of_exactly_63_characters_is_kept_as_it_is(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    exact = "test-" + "a" * 54 + "-"  # 60 characters, ending in a dash, and "-r1": 63
    assert bucket_name(exact, "r1") == exact + "-r1"


def test_a_name_one_character_too_long_is_cut_at_its_dashes_and_dots_only(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    configured = "test-" + "a" * 52 + "X-." + "z"  # 61 characters: with "-r1" one too many
    assert bucket_name(configured, "r1") == "test-" + "a" * 52 + "X-r1"


def test_a_bucket_created_without_a_run_id_carries_an_empty_run_tag(s3_client, by_hand):
    name = _name("no-run-id")
    by_hand.append(name)
    janitor = BucketJanitor(s3_client, name, "us-east-1")
    janitor.create()
    assert _tags(s3_client, name)[RUN_TAG] == ""
    janitor.remove()


def test_a_removal_lists_the_buckets_once_and_still_refuses_a_bucket_created_again_by_someone_else(s3_client, by_hand):
    # the listing that says whether the bucket is gone is the one its CreationDate is compared with
    counted = Scripted(s3_client, list_buckets=lambda **kwargs: s3_client.list_buckets(**kwargs))
    name = _name("one-listing")
    BucketJanitor(counted, name, "us-east-1").create()
    counted.calls.clear()
    BucketJanitor(counted, name, "us-east-1").remove()
    assert [call for call, _ in counted.calls] == ["list_buckets"] and not _exists(s3_client, name)

    by_hand.append(name)
    BucketJanitor(counted, name, "us-east-1").create()
    s3_client.delete_bucket(Bucket=name)
    time.sleep(1.1)  # S3 gives a bucket's creation time to the second (the janitor's docstring)
    s3_client.create_bucket(Bucket=name)  # someone else's now, with a CreationDate of its own
    s3_client.put_object(Bucket=name, Key="theirs.txt", Body=b"kept")
    with pytest.raises(UnsafeTarget, match="no longer the one this run created"):
        BucketJanitor(counted, name, "us-east-1").remove()
    assert _keys(s3_client, name) == ["theirs.txt"]
