"""The S3 client, bucket and file factories' fixtures driven in-process with the test's own ``request`` (no nested
pytest, so a mutation run sees these tests call the factories): a client's timeouts and closing; a bucket's name,
janitor, refusals and cleaning; an uploaded file. The server factory: test_s3_factory_server_mutants.py."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from narrative_fixtures.errors import ConfigError, UnsafeTarget
from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.s3 import factories
from narrative_fixtures.services.s3.factories import bucket_factory, s3_client_factory, s3_file_factory
from narrative_fixtures.services.s3.janitor import bucket_name

from tests.services.s3.factory_support import finish, inner


def test_a_client_reaches_its_endpoint_with_the_timeouts_asked(request, s3_service):
    running = inner(s3_client_factory(connect_timeout=0.5, read_timeout=7))(request, s3_service=s3_service)
    client = next(running)
    assert client.meta.endpoint_url == s3_service.url
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (0.5, 7)
    finish(running)


def test_a_client_is_closed_after_its_scope_not_before(request, monkeypatch):
    made = []

    class Client:
        closed = 0

        def close(self):
            self.closed += 1

    def client_for(endpoint, **timeouts):
        made.append((endpoint, timeouts, Client()))
        return made[-1][2]

    monkeypatch.setattr(factories, "client_for", client_for)
    running = inner(s3_client_factory("s3_second", connect_timeout=1, read_timeout=3))(request, s3_second="there")
    client = next(running)
    assert made == [("there", {"connect_timeout": 1, "read_timeout": 3}, client)] and client.closed == 0
    with pytest.raises(StopIteration):
        next(running)
    assert client.closed == 1


def test_a_bucket_is_created_empty_for_its_test_and_removed_after_it(request, s3_client, s3_service):
    running = inner(bucket_factory("test-mutants-factory"))(request, s3_client=s3_client, s3_service=s3_service)
    name = next(running)
    assert name == bucket_name("test-mutants-factory", registry_of(request.config).context.run_id
                               if s3_service.shared else None)
    assert s3_client.list_objects_v2(Bucket=name)["KeyCount"] == 0
    s3_client.put_object(Bucket=name, Key="left.txt", Body=b"x")
    with pytest.raises(StopIteration):
        next(running)
    assert name not in [item["Name"] for item in s3_client.list_buckets()["Buckets"]]


def test_the_test_bucket_is_the_endpoint_s_bucket(request, s3_client, s3_service):
    running = inner(bucket_factory())(request, s3_client=s3_client, s3_service=s3_service)
    assert next(running) == s3_service.bucket
    finish(running)  # its teardown, as pytest runs it: the bucket is removed and no longer held by this fixture


class Janitor:
    """Stands in for BucketJanitor: records how it was made and what it was asked."""

    made: list = []
    refusals: dict = {}  # action: the exception it raises

    def __init__(self, client, name, region, run_id, setting):
        self.args = (client, name, region, run_id, setting)
        self.name = name
        self.asked = []
        self.refuse = dict(Janitor.refusals)
        Janitor.made.append(self)

    def create(self):
        self._do("create")

    def remove(self):
        self._do("remove")

    def _do(self, action):
        self.asked.append(action)
        if action in self.refuse:
            raise self.refuse[action]


@pytest.fixture
def janitors(monkeypatch):
    """The janitors the bucket fixtures make (none does anything); the service check recorded, not made."""
    monkeypatch.setattr(Janitor, "made", [])
    monkeypatch.setattr(Janitor, "refusals", {})
    checked = []
    monkeypatch.setattr(factories, "BucketJanitor", Janitor)
    monkeypatch.setattr(factories, "require_service", lambda *args: checked.append(args))
    return SimpleNamespace(made=Janitor.made, checked=checked)


class Client:
    def __init__(self, url):
        self.meta = SimpleNamespace(endpoint_url=url)


def _endpoint(request, mode="embedded"):
    endpoint = registry_of(request.config).running().get("s3")
    if endpoint is None:
        from narrative_fixtures.services.s3.endpoint import S3Endpoint

        endpoint = S3Endpoint("s3", "embedded", "http://127.0.0.1:9", "moto S3 server", "", bucket="test-b")
    return endpoint if mode == "embedded" else dataclasses.replace(endpoint, mode=mode)


def test_a_bucket_on_a_shared_endpoint_carries_the_run_s_id_and_its_janitor_the_factory_s_call(request, janitors):
    endpoint = _endpoint(request, "external")
    client = Client(endpoint.url)
    run_id = registry_of(request.config).context.run_id
    running = inner(bucket_factory("test-shared", service="s3_other"))(request, s3_client=client, s3_other=endpoint)
    assert next(running) == bucket_name("test-shared", run_id)
    janitor, = janitors.made
    assert janitor.args == (client, bucket_name("test-shared", run_id), endpoint.region, run_id,
                            "bucket_factory(name='test-shared')")
    assert janitor.asked == ["create"] and not janitors.checked
    with pytest.raises(StopIteration):
        next(running)
    assert janitor.asked == ["create", "remove"]


def test_the_test_bucket_s_janitor_names_the_setting_and_the_run_s_s3_is_checked(request, janitors):
    endpoint = _endpoint(request, "external")
    running = inner(bucket_factory())(request, s3_client=Client(endpoint.url), s3_service=endpoint)
    assert next(running) == endpoint.bucket
    janitor, = janitors.made
    assert janitor.args[1:] == (endpoint.bucket, endpoint.region, registry_of(request.config).context.run_id,
                                "TEST_S3_BUCKET")
    assert janitors.checked == [(request, "s3")]
    finish(running)


def test_a_bucket_on_the_run_s_own_server_under_another_fixture_name_checks_the_server(request, janitors, s3_service):
    running = inner(bucket_factory("test-own", service="s3_alias"))(
        request, s3_client=Client(s3_service.url), s3_alias=s3_service)
    assert next(running) == bucket_name("test-own", registry_of(request.config).context.run_id
                                        if s3_service.shared else None)
    assert janitors.checked == [(request, "s3")]
    finish(running)


def test_a_bucket_through_a_client_of_another_endpoint_is_refused_naming_both(request, janitors):
    endpoint = _endpoint(request, "external")
    running = inner(bucket_factory("test-x", client="other_client", service="s3_other"))(
        request, other_client=Client("http://ops:hunter2@127.0.0.1:1/"), s3_other=endpoint)
    with pytest.raises(pytest.fail.Exception) as refused:
        next(running)
    assert str(refused.value) == (
        f"bucket_factory(name='test-x'): the client 'other_client' reaches http://ops:***@127.0.0.1:1/, not"
        f" 's3_other' at {endpoint.masked_url}; give bucket_factory a client of that endpoint")
    assert refused.value.pytrace is False and "hunter2" not in str(refused.value) and not janitors.made


@pytest.mark.parametrize("refusal", [UnsafeTarget("TEST_S3_BUCKET='prod': refusing"), ConfigError("bad name")])
def test_a_bucket_the_janitor_refuses_to_create_fails_in_its_one_line(request, janitors, refusal):
    endpoint = _endpoint(request, "external")
    Janitor.refusals["create"] = refusal
    running = inner(bucket_factory("test-x", service="s3_other"))(request, s3_client=Client(endpoint.url),
                                                                 s3_other=endpoint)
    with pytest.raises(pytest.fail.Exception) as refused:
        next(running)
    assert str(refused.value) == str(refusal) and refused.value.pytrace is False


@pytest.mark.parametrize("refusal", [UnsafeTarget("test-x was replaced: refusing"), ConfigError("bad region")])
def test_a_bucket_the_janitor_refuses_to_remove_fails_after_its_test_in_its_one_line(request, janitors, refusal):
    endpoint = _endpoint(request, "external")
    Janitor.refusals["remove"] = refusal
    running = inner(bucket_factory("test-x", service="s3_other"))(request, s3_client=Client(endpoint.url),
                                                                 s3_other=endpoint)
    next(running)
    with pytest.raises(pytest.fail.Exception) as refused:
        next(running)
    assert str(refused.value) == str(refusal) and refused.value.pytrace is False


def test_a_janitor_s_unexpected_error_is_raised_as_it_is(request, janitors):
    endpoint = _endpoint(request, "external")
    Janitor.refusals["create"] = KeyError("boom")
    running = inner(bucket_factory("test-x", service="s3_other"))(request, s3_client=Client(endpoint.url),
                                                                 s3_other=endpoint)
    with pytest.raises(KeyError):
        next(running)


class Uploads:
    def __init__(self):
        self.puts = []

    def put_object(self, **fields):
        self.puts.append(fields)


@pytest.mark.parametrize(("content", "stored"), [("id,välue\n1,2\n", "id,välue\n1,2\n".encode()),
                                                 (b"\x00\xff", b"\x00\xff")])
def test_a_file_is_uploaded_with_its_type_and_described_as_given(request, content, stored):
    client = Uploads()
    running = inner(s3_file_factory("dir/a.csv", content, content_type="text/plain", bucket="mine"))(
        request, s3_client=client, mine="test-bucket-1")
    assert next(running) == {"bucket": "test-bucket-1", "key": "dir/a.csv", "url": "s3://test-bucket-1/dir/a.csv",
                             "content": content, "content_type": "text/plain"}
    assert client.puts == [{"Bucket": "test-bucket-1", "Key": "dir/a.csv", "Body": stored, "ContentType": "text/plain"}]
    with pytest.raises(StopIteration):
        next(running)
    assert len(client.puts) == 1


def test_the_test_file_is_the_story_s_csv(request):
    client = Uploads()
    running = inner(s3_file_factory())(request, s3_client=client, test_s3_bucket="test-b")
    described = next(running)
    assert described["url"] == "s3://test-b/test-data/test_file.csv" and described["content_type"] == "text/csv"
    assert client.puts[0]["Body"] == factories.TEST_FILE_CONTENT.encode()
    assert described["content"].splitlines()[0] == "id,value,category" and len(described["content"].splitlines()) == 6
