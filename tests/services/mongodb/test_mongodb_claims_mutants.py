"""The run's claims as fixtures take them (``claims.claim_for_run``), called directly on the run's server: once per
database, remembered (a refusal too), released by the session's finalizer; the embedded server needs none. The
nested runs of test_mongodb_safety.py show the same as users meet it; the mutation run cannot see into those."""

from __future__ import annotations

import socket
import types
import uuid

import pymongo
import pytest

from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.mongodb.claims import _release, claim_for_run
from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint
from narrative_fixtures.services.mongodb.janitor import CLAIM_COLLECTION, CLAIM_ID
from narrative_fixtures.services.mongodb.provider import SELECTION_TIMEOUT_MS
from tests.services.mongodb.recorded_clients import clients_made  # noqa: F401 - a fixture

SOURCE = "TEST_MONGODB_DB"


class FakeRequest:
    """What claim_for_run reads of a fixture request: the real config, and a session whose finalizers are kept."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.finalizers: list = []
        self.session = types.SimpleNamespace(addfinalizer=self.finalizers.append)


def endpoint_on(url: str, mode: str = "external", **changes) -> MongoDBEndpoint:
    values = dict(backend="FerretDB", version="1.24.2", host="127.0.0.1", database="unused", loopback=True)
    values.update(changes)
    return MongoDBEndpoint("mongodb", mode, url, **values)


@pytest.fixture
def server(mongodb_service):
    """A sync client on the run's server and a fresh test database name on it, dropped after the test."""
    name = f"claims_{uuid.uuid4().hex[:10]}_test"
    client = pymongo.MongoClient(mongodb_service.url, serverSelectionTimeoutMS=2000)
    yield client, mongodb_service.url, name
    client.drop_database(name)
    client.close()


def claim_of(client, database: str) -> dict | None:
    return client[database][CLAIM_COLLECTION].find_one({"_id": CLAIM_ID})


def test_the_embedded_server_is_the_runs_own_and_needs_no_claim(request, server):
    client, url, name = server
    fake = FakeRequest(request.config)
    assert claim_for_run(fake, endpoint_on(url, mode="embedded"), name, SOURCE, allow_unsafe=False) is None
    assert name not in client.list_database_names()
    assert fake.finalizers == []


def test_an_external_database_is_claimed_once_for_the_run_and_released_at_its_end(request, server):
    client, url, name = server
    fake = FakeRequest(request.config)
    endpoint = endpoint_on(url)
    assert claim_for_run(fake, endpoint, name, SOURCE, allow_unsafe=False) is None
    claim = claim_of(client, name)
    assert claim["run"] == registry_of(request.config).context.run_id
    assert claim["host"] == socket.gethostname()
    client[name][CLAIM_COLLECTION].delete_many({})
    assert claim_for_run(fake, endpoint, name, SOURCE, allow_unsafe=False) is None  # remembered: not claimed again
    assert claim_of(client, name) is None
    assert len(fake.finalizers) == 1
    claim_for_run(FakeRequest(request.config), endpoint, name, SOURCE, allow_unsafe=False)  # the same run's stash
    assert claim_of(client, name) is None
    second = name.removesuffix("_test") + "_second_test"  # another database is claimed on its own
    try:
        assert claim_for_run(fake, endpoint, second, SOURCE, allow_unsafe=False) is None
        assert claim_of(client, second)["run"] == claim["run"]
    finally:
        client.drop_database(second)


def test_the_finalizer_releases_the_runs_claim(request, server):
    client, url, name = server
    fake = FakeRequest(request.config)
    assert claim_for_run(fake, endpoint_on(url), name, SOURCE, allow_unsafe=False) is None
    assert claim_of(client, name) is not None
    fake.finalizers[0]()
    assert claim_of(client, name) is None


def test_a_database_without_a_test_name_is_refused_remembered_and_never_written(request, server):
    client, url, _name = server
    name = f"orders_{uuid.uuid4().hex[:8]}"
    fake = FakeRequest(request.config)
    endpoint = endpoint_on(url)
    reason = claim_for_run(fake, endpoint, name, "database_factory('orders')", allow_unsafe=False)
    assert reason.startswith(f"refusing to clean MongoDB database {name!r}")
    assert "its name (database_factory('orders')) does not contain 'test'" in reason
    assert claim_for_run(fake, endpoint, name, "database_factory('orders')", allow_unsafe=False) == reason
    assert name not in client.list_database_names()
    assert fake.finalizers == []


def test_allow_unsafe_lets_a_non_test_name_holding_documents_be_claimed(request, server):
    client, url, name = server
    other = name.removesuffix("_test") + "_orders"
    client[other].orders.insert_one({"theirs": True})
    fake = FakeRequest(request.config)
    try:
        assert claim_for_run(fake, endpoint_on(url), other, SOURCE, allow_unsafe=True) is None
        assert claim_of(client, other)["run"] == registry_of(request.config).context.run_id
    finally:
        client.drop_database(other)


def test_a_database_holding_foreign_documents_is_refused_and_the_refusal_remembered(request, server):
    client, url, name = server
    client[name].orders.insert_one({"theirs": True})
    fake = FakeRequest(request.config)
    endpoint = endpoint_on(url)
    source = "database_factory(name='orders_test')"
    reason = claim_for_run(fake, endpoint, name, source, allow_unsafe=False)
    assert "holds documents this run did not write (orders: 1)" in reason
    assert f"set {source} to another test database" in reason
    client[name].orders.delete_many({})
    assert claim_for_run(fake, endpoint, name, source, allow_unsafe=False) == reason
    assert claim_of(client, name) is None
    assert fake.finalizers == []


def test_an_unreachable_server_is_one_line_naming_the_setting_with_the_password_masked(request):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"mongodb://app:s3cret@127.0.0.1:{port}/"
    fake = FakeRequest(request.config)
    reason = claim_for_run(fake, endpoint_on(url, port=port), "gone_test", SOURCE, allow_unsafe=False)
    assert reason.startswith(f"cannot claim MongoDB database 'gone_test' at TEST_MONGODB_URI=mongodb://app:***@127.0.0.1:{port}/ (")
    assert f"127.0.0.1:{port}" in reason.split(" (", 1)[1]  # PyMongo's own reason follows
    assert "s3cret" not in reason
    assert "\n" not in reason
    assert fake.finalizers == []
    _release(endpoint_on(url, port=port), "any-run", "gone_test")  # the server is gone: the release says nothing


def test_the_claim_waits_for_a_server_as_long_as_the_probe_and_says_who_connects(request, server, clients_made):
    client, url, name = server
    claim_for_run(FakeRequest(request.config), endpoint_on(url), name, SOURCE, allow_unsafe=False)
    (made,) = clients_made
    assert made.options.server_selection_timeout == SELECTION_TIMEOUT_MS / 1000
    assert made.options.pool_options.connect_timeout == SELECTION_TIMEOUT_MS / 1000
    assert made.options.pool_options.metadata["application"] == {"name": "narrative-acceptance"}


def test_the_release_at_the_end_of_the_run_gives_a_gone_server_half_a_second(request, server, clients_made):
    client, url, name = server
    fake = FakeRequest(request.config)
    claim_for_run(fake, endpoint_on(url), name, SOURCE, allow_unsafe=False)
    fake.finalizers[0]()
    assert claim_of(client, name) is None
    released = clients_made[-1]
    assert released.options.server_selection_timeout == 0.5
    assert (released.options.pool_options.connect_timeout, released.options.pool_options.socket_timeout) == (0.5, 2)


def test_a_driver_error_quoting_the_password_is_masked_in_the_refusal(request, monkeypatch):
    from pymongo.errors import PyMongoError

    from narrative_fixtures.services.mongodb import claims

    def fails(*args, **kwargs):
        raise PyMongoError("authentication for app:s3cret went wrong")

    monkeypatch.setattr(claims, "claim_database", fails)  # no server is reached: the URL's port is never dialled
    secret_url = "mongodb://app:s3cret@127.0.0.1:27999/"
    reason = claim_for_run(FakeRequest(request.config), endpoint_on(secret_url), "masked_test", SOURCE,
                           allow_unsafe=False)
    assert reason.endswith("(authentication for app:*** went wrong)")
