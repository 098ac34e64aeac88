"""Steps of the S3 feature: thin, they use the plugin's fixtures, a boto3 client and a plain HTTP client, and assert."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from pytest_bdd import given, parsers, then, when

from narrative_fixtures.services.common import registry_of, settings_of
from narrative_fixtures.services.s3 import (
    OWNER_TAG,
    TEST_FILE_CONTENT,
    bucket_name,
    is_aws_host,
    is_loopback,
    owned_bucket,
    presigned_get_url,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

pytest_plugins = ["steps.s3_isolation"]  # the nested-run steps of this feature

MIB = 1024 * 1024
MULTIPART = pytest.StashKey[dict]()  # the parts of this test's multipart upload, for the ETag check


def _names(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.replace(" and ", ", ").split(",") if part.strip()]


def _read(s3_client, bucket: str, key: str, **kwargs) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


def _fetch(url: str) -> httpx.Response:
    """A plain HTTP GET, as a browser or another service would do it (no proxy for a loopback server). httpx is
    imported here: at module level it (with rich and click) was imported by every xdist worker, S3 scenarios or
    not."""
    import httpx

    return httpx.get(url, timeout=5, trust_env=not is_loopback(url))


def _keys(s3_client, bucket: str) -> list[str]:
    return [item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


@given("an empty test bucket for this test", target_fixture="bucket")
def empty_bucket(s3_client, test_s3_bucket):
    assert s3_client.list_objects_v2(Bucket=test_s3_bucket)["KeyCount"] == 0, "the test bucket was not empty"
    return test_s3_bucket


@then("the storage service answers")
def storage_answers(s3_client, bucket):
    s3_client.head_bucket(Bucket=bucket)
    assert bucket in [item["Name"] for item in s3_client.list_buckets()["Buckets"]]


@then("the client talks only to the configured storage endpoint, real AWS only when explicitly allowed")
def talks_to_test_endpoint(s3_client, s3_service, request):
    assert s3_client.meta.endpoint_url == s3_service.url
    if is_aws_host(urlsplit(s3_client.meta.endpoint_url).hostname):
        assert settings_of(request.config)["s3"].flag("allow_aws"), "real AWS without TEST_S3_ALLOW_AWS"
    assert s3_client.meta.config.s3["addressing_style"] == "path"


@then(parsers.parse("the client gives up after a single attempt with {seconds:d} second connect and read timeouts"))
def fails_fast(s3_client, seconds):
    config = s3_client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (seconds, seconds)
    assert config.retries["total_max_attempts"] == 1


@then("the bucket is named after the configured test bucket, this worker and, on a shared server, this run")
def bucket_named(bucket, s3_service, request):
    configured = settings_of(request.config)["s3"]["bucket"]
    shared = s3_service.shared  # external or reused: another run may use the same server, the run id keeps them apart
    assert bucket == s3_service.bucket == bucket_name(
        configured, registry_of(request.config).context.run_id if shared else None
    )
    assert bucket.startswith("test-")


@then("the bucket holds no files")
def bucket_empty(s3_client, bucket):
    assert _keys(s3_client, bucket) == []
    assert s3_client.list_object_versions(Bucket=bucket).get("Versions", []) == []
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@then("the bucket is marked as created by the test fixtures")
def bucket_marked(s3_client, bucket):
    assert OWNER_TAG in s3_client.get_bucket_tagging(Bucket=bucket)["TagSet"]


@given("the sample CSV dataset has been uploaded", target_fixture="dataset")
def dataset(test_s3_file):
    return test_s3_file


@then(parsers.parse('the dataset is stored at "{key}" with an s3:// address'))
def dataset_address(dataset, bucket, key):
    assert (dataset["bucket"], dataset["key"]) == (bucket, key)
    assert dataset["url"] == f"s3://{bucket}/{key}"


@then(parsers.parse("the dataset reads back with {rows:d} rows and the columns {columns}"))
def dataset_rows(s3_client, dataset, rows, columns):
    stored = _read(s3_client, dataset["bucket"], dataset["key"]).decode()
    assert stored == dataset["content"] == TEST_FILE_CONTENT
    records = list(csv.DictReader(io.StringIO(stored)))
    assert len(records) == rows
    assert list(records[0]) == _names(columns)
    assert all(record["id"] and float(record["value"]) and record["category"] for record in records)


@when(parsers.parse('a {kind} file of {size:d} bytes is uploaded as "{key}"'), target_fixture="uploaded")
def upload_file(s3_client, bucket, kind, size, key):
    body = {"text": lambda: ("narrative " * size)[:size].encode(), "binary": lambda: os.urandom(size)}.get(
        kind, lambda: b""
    )()
    assert len(body) == size
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    return {key: body}


@then(parsers.parse('downloading "{key}" returns exactly the uploaded bytes'))
def download_matches(s3_client, bucket, uploaded, key):
    downloaded = _read(s3_client, bucket, key)
    assert len(downloaded) == len(uploaded[key])
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(uploaded[key]).digest()


@given("these files are stored:")
def files_stored(s3_client, bucket, datatable):
    header, *rows = datatable
    for row in rows:
        record = dict(zip(header, row))
        for number in range(int(record["count"])):
            s3_client.put_object(Bucket=bucket, Key=f"{record['folder']}file-{number:02d}.csv", Body=b"x")


@when(parsers.parse('the files under "{prefix}" are listed {page_size:d} at a time'), target_fixture="pages")
def list_in_pages(s3_client, bucket, prefix, page_size):
    paginator = s3_client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    return [[item["Key"] for item in page.get("Contents", [])] for page in pages]


@then(parsers.parse("the listing comes in pages of {sizes} files"))
def page_sizes(pages, sizes):
    assert [len(page) for page in pages] == [int(size) for size in _names(sizes)]


@then(parsers.parse('the listing holds the {count:d} files under "{prefix}" in name order and nothing else'))
def listing_complete(pages, count, prefix):
    keys = [key for page in pages for key in page]
    assert keys == [f"{prefix}file-{number:02d}.csv" for number in range(count)]


@given(parsers.parse("the files {names} are stored"))
def named_files(s3_client, bucket, names):
    for name in _names(names):
        s3_client.put_object(Bucket=bucket, Key=name, Body=name.encode())


@when(parsers.parse('"{key}" is deleted'))
def delete_file(s3_client, bucket, key):
    s3_client.delete_object(Bucket=bucket, Key=key)


@then(parsers.parse('"{key}" no longer exists'))
def file_gone(s3_client, bucket, key):
    with pytest.raises(ClientError) as missing:
        s3_client.head_object(Bucket=bucket, Key=key)
    assert missing.value.response["Error"]["Code"] in ("404", "NoSuchKey")


@then(parsers.parse("only {names} remain"))
def only_remaining(s3_client, bucket, names):
    assert _keys(s3_client, bucket) == _names(names)
    assert all(_read(s3_client, bucket, name) == name.encode() for name in _names(names))


@when(
    parsers.parse('a file of {size_mib:d} MiB is uploaded as "{key}" in parts of {part_mib:d} MiB'),
    target_fixture="uploaded",
)
def multipart_upload(s3_client, bucket, size_mib, key, part_mib, request):
    body = os.urandom(size_mib * MIB)
    parts = [body[start : start + part_mib * MIB] for start in range(0, len(body), part_mib * MIB)]
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key=key)
    sent = []
    for number, part in enumerate(parts, start=1):
        answer = s3_client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=part
        )
        assert answer["ETag"].strip('"') == hashlib.md5(part).hexdigest(), f"part {number} was not stored intact"
        sent.append({"PartNumber": number, "ETag": answer["ETag"]})
    listed = s3_client.list_parts(Bucket=bucket, Key=key, UploadId=upload["UploadId"])["Parts"]
    s3_client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": sent}
    )
    request.node.stash[MULTIPART] = {"parts": parts, "listed": listed}
    return {key: body}


@then(parsers.parse("the upload was completed from {count:d} parts"))
def completed_from_parts(s3_client, bucket, request, count):
    multipart = request.node.stash[MULTIPART]
    assert [part["PartNumber"] for part in multipart["listed"]] == list(range(1, count + 1))
    assert [part["Size"] for part in multipart["listed"]] == [len(part) for part in multipart["parts"]]
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@then(parsers.parse('its ETag is the MD5 of the parts\' MD5 digests followed by "-{count:d}"'))
def multipart_etag(s3_client, bucket, uploaded, request, count):
    (key,) = uploaded
    parts = request.node.stash[MULTIPART]["parts"]
    expected = hashlib.md5(b"".join(hashlib.md5(part).digest() for part in parts)).hexdigest() + f"-{count}"
    assert s3_client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == expected


@when(parsers.parse("a download link valid for {minutes:d} minutes is issued for the dataset"), target_fixture="link")
def issue_link(s3_client, dataset, minutes):
    return presigned_get_url(s3_client, dataset["bucket"], dataset["key"], expires_in=minutes * 60)


@then("a plain HTTP client downloads the dataset through the link")
def download_through_link(link, dataset):
    response = _fetch(link)
    assert response.status_code == 200, response.text
    assert response.text == dataset["content"]


@then(
    parsers.parse(
        "a link issued {hours_ago:d} hours ago with a validity of {valid_hours:d} hour is refused as expired"
    )
)
def expired_link_refused(s3_client, dataset, hours_ago, valid_hours):
    issued_at = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    link = presigned_get_url(
        s3_client, dataset["bucket"], dataset["key"], expires_in=valid_hours * 3600, issued_at=issued_at
    )
    response = _fetch(link)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text and "expired" in response.text.lower()
    assert dataset["content"] not in response.text


@when(
    parsers.parse('"{key}" is uploaded with content type "{content_type}" and the metadata:'),
    target_fixture="described",
)
def upload_with_metadata(s3_client, bucket, key, content_type, datatable):
    header, *rows = datatable
    metadata = {row[header.index("name")]: row[header.index("value")] for row in rows}
    s3_client.put_object(Bucket=bucket, Key=key, Body=b'{"rows": 5}', ContentType=content_type, Metadata=metadata)
    return {"content_type": content_type, "metadata": metadata}


@then(parsers.parse('reading the details of "{key}" gives back that content type and metadata'))
def metadata_round_trip(s3_client, bucket, key, described):
    head = s3_client.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == described["content_type"]
    assert head["Metadata"] == described["metadata"]
    assert head["ContentLength"] == len(b'{"rows": 5}')


@when(parsers.parse('the dataset is copied to "{key}"'), target_fixture="copy_key")
def copy_dataset(s3_client, dataset, key):
    source = {"Bucket": dataset["bucket"], "Key": dataset["key"]}
    s3_client.copy_object(Bucket=dataset["bucket"], Key=key, CopySource=source)
    return key


@then("both the original and the copy hold the dataset")
def both_hold(s3_client, dataset, copy_key):
    for key in (dataset["key"], copy_key):
        assert _read(s3_client, dataset["bucket"], key).decode() == dataset["content"]


@then("the copy keeps the dataset's content type")
def copy_content_type(s3_client, dataset, copy_key):
    assert s3_client.head_object(Bucket=dataset["bucket"], Key=copy_key)["ContentType"] == dataset["content_type"]


@given("versioning is enabled on the bucket")
def versioning_on(s3_client, bucket):
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3_client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


@when(parsers.parse('"{key}" is written with "{first}" and then with "{second}"'), target_fixture="written")
def write_twice(s3_client, bucket, key, first, second):
    ids = [s3_client.put_object(Bucket=bucket, Key=key, Body=text.encode())["VersionId"] for text in (first, second)]
    return dict(zip(ids, (first, second)))


@then(parsers.parse('"{key}" has {count:d} versions'), target_fixture="versions")
def version_count(s3_client, bucket, key, count, written):
    versions = s3_client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert len(versions) == count
    assert {version["VersionId"] for version in versions} == set(written)
    return versions


@then(parsers.parse('each version returns its own content and the latest is "{latest}"'))
def versions_readable(s3_client, bucket, versions, written, latest):
    for version in versions:
        content = _read(s3_client, bucket, version["Key"], VersionId=version["VersionId"]).decode()
        assert content == written[version["VersionId"]]
    (newest,) = [version for version in versions if version["IsLatest"]]
    assert written[newest["VersionId"]] == latest
    assert _read(s3_client, bucket, newest["Key"]).decode() == latest


@when(
    "a bucket of the test's own holds two versions of a file, a deleted file and an unfinished upload when the test"
    " is done with it",
    target_fixture="extra_bucket",
)
def extra_bucket_used(s3_client, s3_service):
    name = f"test-narrative-extra-{os.urandom(4).hex()}"
    with owned_bucket(s3_client, name, s3_service.region) as bucket:
        s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for body in (b"version one", b"version two"):
            s3_client.put_object(Bucket=bucket, Key="models/model.json", Body=body)
        s3_client.put_object(Bucket=bucket, Key="exports/old.csv", Body=b"id")
        s3_client.delete_object(Bucket=bucket, Key="exports/old.csv")  # a deletion marker stays
        s3_client.create_multipart_upload(Bucket=bucket, Key="models/large.bin")
        assert len(s3_client.list_object_versions(Bucket=bucket)["Versions"]) == 3
    return name


@then("that bucket and everything in it are gone from the storage server")
def extra_bucket_gone(s3_client, extra_bucket):
    assert extra_bucket not in [item["Name"] for item in s3_client.list_buckets()["Buckets"]]
    with pytest.raises(ClientError):
        s3_client.head_bucket(Bucket=extra_bucket)
