"""moto 5.2.5's S3 server where it differs from S3 and LocalStack, reproduced minimally on an in-process moto server
(not watched by the fidelity guard). Each test asserts the difference is *there*: a moto upgrade that lifts it fails
the test, and its row of ``narrative_fixtures.services.s3.fidelity.TABLE`` (docs/stand-ins.md) goes."""

from __future__ import annotations

import base64
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from narrative_fixtures.services.s3 import fidelity
from narrative_fixtures.services.s3.fidelity import ARGUMENTS, DIGESTS
from narrative_fixtures.services.s3.server import FAKE_CREDENTIALS, make_server

RACERS = 8

@pytest.fixture(scope="module")
def moto_url():
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _client(url: str):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=FAKE_CREDENTIALS[0],
                        aws_secret_access_key=FAKE_CREDENTIALS[1],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture
def bucket(moto_url, request):
    name = f"test-fidelity-{abs(hash(request.node.nodeid)) % 10**8}"
    client = _client(moto_url)
    client.create_bucket(Bucket=name)
    yield client, name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)
    client.close()


@pytest.fixture
def slow_writes(monkeypatch):
    """Each write of moto's backend pauses first: a check held with its write would still let one racer through."""
    from moto.s3.models import S3Backend

    write = S3Backend.put_object

    def paused_write(self, *args, **kwargs):
        time.sleep(0.05)
        return write(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", paused_write)


def _race(url: str, bucket: str, **put) -> list[int]:
    """RACERS clients send the same conditional put at once; the ones that succeeded."""
    clients = [_client(url) for _ in range(RACERS)]
    start, won = threading.Barrier(RACERS), []

    def racer(n: int) -> None:
        start.wait()
        try:
            clients[n].put_object(Bucket=bucket, Key="lock", Body=str(n).encode(), **put)
            won.append(n)
        except ClientError as error:
            assert error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict")

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return won


def test_a_conditional_create_is_checked_then_written_so_two_racers_can_both_win(moto_url, bucket, slow_writes):
    client, name = bucket
    won = _race(moto_url, name, IfNoneMatch="*")
    assert len(won) > 1  # S3: exactly one create-if-absent wins, the others get 412 (or 409)
    with pytest.raises(ClientError, match="PreconditionFailed"):  # the check itself holds when nobody races
        client.put_object(Bucket=name, Key="lock", Body=b"late", IfNoneMatch="*")


def test_a_conditional_overwrite_is_checked_then_written_so_two_racers_can_both_win(moto_url, bucket, slow_writes):
    client, name = bucket
    etag = client.put_object(Bucket=name, Key="lock", Body=b"v1")["ETag"]
    won = _race(moto_url, name, IfMatch=etag)
    assert len(won) > 1  # S3: one update of version v1 wins; the others' etag is stale (412)


def _upload(client, bucket: str, key: str, body: bytes) -> tuple[str, list[dict]]:
    """A multipart upload of one part, not completed yet: (upload id, its parts)."""
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body)["ETag"]
    return upload, [{"ETag": etag, "PartNumber": 1}]


def test_a_conditional_complete_is_checked_then_written_so_two_uploads_can_both_win(moto_url, bucket, slow_writes):
    client, name = bucket
    uploads = [_upload(client, name, "lock", str(n).encode()) for n in range(RACERS)]
    clients = [_client(moto_url) for _ in range(RACERS)]
    start, won = threading.Barrier(RACERS), []

    def complete(n: int) -> None:
        upload, parts = uploads[n]
        start.wait()
        try:
            clients[n].complete_multipart_upload(Bucket=name, Key="lock", UploadId=upload,
                                                 MultipartUpload={"Parts": parts}, IfNoneMatch="*")
            won.append(n)
        except ClientError as error:
            assert error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict")

    threads = [threading.Thread(target=complete, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in clients:
        other.close()
    assert len(won) > 1  # S3: exactly one upload completes as the key's creator, the others get 412


def test_a_conditional_complete_ignores_if_match(bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="target", Body=b"kept")
    upload, parts = _upload(client, name, "target", b"new")
    client.complete_multipart_upload(Bucket=name, Key="target", UploadId=upload, MultipartUpload={"Parts": parts},
                                     IfMatch='"not-its-etag"')
    assert client.get_object(Bucket=name, Key="target")["Body"].read() == b"new"  # S3: 412, target kept


@pytest.mark.parametrize("condition", ["IfNoneMatch='*'", "IfMatch"])
def test_a_conditional_copy_ignores_the_condition(bucket, condition):
    client, name = bucket
    client.put_object(Bucket=name, Key="source", Body=b"new")
    client.put_object(Bucket=name, Key="target", Body=b"kept")
    put = {"IfNoneMatch": "*"} if condition.startswith("IfNoneMatch") else {"IfMatch": '"not-its-etag"'}
    client.copy_object(Bucket=name, Key="target", CopySource={"Bucket": name, "Key": "source"}, **put)
    assert client.get_object(Bucket=name, Key="target")["Body"].read() == b"new"  # S3: 412, target kept


WRONG_DIGESTS = {header: base64.b64encode(bytes(len(digest(b"")))).decode() for header, digest in DIGESTS.items()}


@pytest.mark.parametrize("header", list(DIGESTS))
def test_a_body_that_does_not_match_its_checksum_is_stored(bucket, header):
    client, name = bucket
    client.put_object(Bucket=name, Key="corrupt", Body=b"hello", **{ARGUMENTS[header]: WRONG_DIGESTS[header]})
    assert client.get_object(Bucket=name, Key="corrupt")["Body"].read() == b"hello"  # S3: 400 BadDigest
    upload = client.create_multipart_upload(Bucket=name, Key="parts")["UploadId"]
    try:  # a part too
        client.upload_part(Bucket=name, Key="parts", UploadId=upload, PartNumber=1, Body=b"hello",
                           **{ARGUMENTS[header]: WRONG_DIGESTS[header]})
    finally:
        client.abort_multipart_upload(Bucket=name, Key="parts", UploadId=upload)


def test_the_guard_sees_a_session_made_during_the_run_and_no_unwatched_server(moto_url, bucket):
    client, name = bucket
    fidelity.GUARD.take()
    client.put_object(Bucket=name, Key="lock", Body=b"x", IfNoneMatch="*")  # this server is not watched
    assert fidelity.GUARD.take() == []
