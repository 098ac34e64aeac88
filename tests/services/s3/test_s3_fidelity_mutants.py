"""The S3 fidelity guard's pieces called directly: which addresses of a moto server it watches, how it reads a
request's body, how its botocore handler is added, registered on boto3's default session and removed. The mutation
run found these reached only at the start and end of a run, or by nested runs."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

import pytest

from narrative_fixtures.core.network import LOOPBACK_HOSTS
from narrative_fixtures.services.s3 import fidelity


@pytest.fixture
def watched(monkeypatch):
    """The addresses fidelity.watch hands to the S3 watch (recorded, not watched: the run's own watch is left as
    it is)."""
    seen = []
    monkeypatch.setattr(fidelity.WATCH, "watch", lambda config, endpoint, addresses: seen.append(sorted(addresses)))
    return seen


def test_a_loopback_server_is_watched_under_every_loopback_name_on_its_port(watched):
    fidelity.watch(None, SimpleNamespace(url="http://127.0.0.1:9"))
    assert watched == [sorted((host, 9) for host in {"127.0.0.1"} | LOOPBACK_HOSTS)]
    assert ("localhost", 9) in watched[0]


def test_another_server_is_watched_under_its_own_name_and_its_schemes_port(watched):
    fidelity.watch(None, SimpleNamespace(url="https://MinIO.internal"))
    assert watched == [[("minio.internal", 443)]]


@pytest.mark.parametrize("body, read", [
    (b"in memory", b"in memory"),
    (bytearray(b"in memory"), b"in memory"),
    (io.BytesIO(b"a seekable stream"), b"a seekable stream"),
    (iter([b"a ", b"generator"]), None),  # not in memory: never read (it could not be sent afterwards)
    (None, None),
])
def test_a_request_body_is_read_only_when_it_is_in_memory(body, read):
    assert fidelity._body({"body": body}) == read


def test_a_header_sent_as_bytes_is_read_as_latin_1():
    assert fidelity._header({"headers": {"If-Match": '"\xe9tag"'.encode("latin-1")}}, "If-Match") == '"\xe9tag"'


def test_the_handler_is_added_to_botocores_built_in_handlers_once(monkeypatch):
    monkeypatch.setattr(fidelity, "_register_on_existing_sessions", lambda: None)
    module = SimpleNamespace(BUILTIN_HANDLERS=[("before-call.s3", print)])
    fidelity._add_handler(module)
    fidelity._add_handler(module)
    assert module.BUILTIN_HANDLERS == [("before-call.s3", print), (fidelity.EVENT, fidelity.before_send)]


class _Recorder:
    def __init__(self) -> None:
        self.calls = []

    def register(self, *args, **kwargs) -> None:
        self.calls.append((args, kwargs))


def test_boto3s_default_session_made_before_the_run_gets_the_handler_under_one_id(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setitem(sys.modules, "boto3", SimpleNamespace(DEFAULT_SESSION=SimpleNamespace(_session=recorder)))
    fidelity._register_on_existing_sessions()
    assert recorder.calls == [((fidelity.EVENT, fidelity.before_send), {"unique_id": "narrative-s3-fidelity"})]


def test_without_a_default_session_nothing_is_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", SimpleNamespace(DEFAULT_SESSION=None))
    fidelity._register_on_existing_sessions()  # no session: nothing to do, no error
    monkeypatch.delitem(sys.modules, "boto3")
    fidelity._register_on_existing_sessions()


def test_removing_the_handler_leaves_the_other_handlers_and_can_be_repeated(monkeypatch):
    other = ("before-call.s3", print)
    module = SimpleNamespace(BUILTIN_HANDLERS=[other, (fidelity.EVENT, fidelity.before_send)])
    monkeypatch.setitem(sys.modules, fidelity.HANDLERS_MODULE, module)
    fidelity._remove_handler()
    fidelity._remove_handler()
    assert module.BUILTIN_HANDLERS == [other]
    monkeypatch.delitem(sys.modules, fidelity.HANDLERS_MODULE)
    fidelity._remove_handler()  # botocore never imported: nothing to remove


def test_the_last_release_of_the_watcher_removes_the_handler(monkeypatch):
    removed = []
    monkeypatch.setattr(fidelity, "_remove_handler", lambda: removed.append(True))
    handlers = fidelity._Handlers(("a.module.never.imported",), fidelity._add_handler)
    handlers.acquire()
    handlers.acquire()
    handlers.release()
    assert removed == []
    handlers.release()
    assert removed == [True]


def test_a_test_needing_the_real_server_is_judged_by_the_s3_watch(monkeypatch):
    judged = []
    monkeypatch.setattr(fidelity.WATCH, "require_target", judged.append)
    item = SimpleNamespace(name="test_needs_localstack")
    fidelity.require_real_server(item)
    assert judged == [item]


@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1:9/test-bucket", ("127.0.0.1", 9)),
    ("http://LocalHost/test-bucket", ("localhost", 80)),
    ("https://MinIO.internal/test-bucket", ("minio.internal", 443)),
    ("https://minio.internal:9443", ("minio.internal", 9443)),
])
def test_an_address_is_the_lower_case_host_and_the_port_or_the_schemes(url, address):
    assert fidelity._address(url) == address


@pytest.fixture
def reports(monkeypatch):
    """The S3 watch seeing only a moto server at 127.0.0.1:9 and localhost:9, its reports recorded."""
    seen = []
    watched = {("127.0.0.1", 9): ("warn", "moto S3 server"), ("localhost", 9): ("warn", "moto S3 server")}
    monkeypatch.setattr(fidelity.WATCH, "lookup", watched.get)
    monkeypatch.setattr(fidelity.WATCH, "report", lambda who, differences: seen.append(
        (who, [difference.operation for difference in differences])))
    return seen


def _sent(url: str, operation: str, **headers: str):
    request = SimpleNamespace(url=url, headers=headers, body=b"")
    return fidelity.before_send(request, event_name=f"before-send.s3.{operation}")


CREATE = "conditional create (put_object IfNoneMatch='*')"


def test_a_conditional_create_sent_to_the_moto_server_is_reported(reports):
    assert _sent("http://127.0.0.1:9/test-bucket/key", "PutObject", **{"If-None-Match": "*"}) is None
    assert reports == [(("warn", "moto S3 server"), [CREATE])]


def test_a_virtual_hosted_request_is_reported_for_the_server_under_its_bucket_name(reports):
    _sent("http://test-bucket.localhost:9/key", "PutObject", **{"If-None-Match": "*"})
    assert reports == [(("warn", "moto S3 server"), [CREATE])]


def test_the_operation_is_the_last_part_of_the_event_name(reports):
    _sent("http://127.0.0.1:9/test-bucket/key", "CopyObject", **{"If-None-Match": "*"})
    assert reports == [(("warn", "moto S3 server"), ["conditional copy (copy_object IfNoneMatch='*')"])]


@pytest.mark.parametrize("url, operation, headers", [
    ("http://127.0.0.1:9/test-bucket/key", "PutObject", {}),  # nothing moto serves differently
    ("http://127.0.0.1:10/test-bucket/key", "PutObject", {"If-None-Match": "*"}),  # a server nobody watches
    ("http://test-bucket.example.org:9/key", "PutObject", {"If-None-Match": "*"}),
])
def test_nothing_is_reported_for_a_plain_request_or_an_unwatched_server(reports, url, operation, headers):
    assert _sent(url, operation, **headers) is None
    assert reports == []


def test_a_virtual_hosted_request_to_a_server_with_a_dotted_name_is_reported_for_that_server(monkeypatch):
    seen = []
    monkeypatch.setattr(fidelity.WATCH, "lookup", {("moto.internal", 9): ("warn", "moto S3 server")}.get)
    monkeypatch.setattr(fidelity.WATCH, "report", lambda who, differences: seen.append(who))
    _sent("http://test-bucket.moto.internal:9/key", "PutObject", **{"If-None-Match": "*"})
    assert seen == [("warn", "moto S3 server")]


def test_a_body_that_does_not_match_its_checksum_is_reported(reports):
    request = SimpleNamespace(url="http://127.0.0.1:9/test-bucket/key", body=b"the body",
                              headers={"content-md5": "AAAAAAAAAAAAAAAAAAAAAA=="})  # botocore: any case
    assert fidelity.before_send(request, event_name="before-send.s3.PutObject") is None
    assert reports == [(("warn", "moto S3 server"), ["ContentMD5 that does not match the body"])]
