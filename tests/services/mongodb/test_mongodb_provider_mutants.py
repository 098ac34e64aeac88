"""The provider called directly: which test database a run uses and which setting named it, what ``buildInfo``
says the server is, what an external URI yields (and the one line when it cannot be reached or parsed); the health
check is test_mongodb_provider_health_mutants.py. The nested runs show the same as users meet it; the mutation run cannot see into those."""

from __future__ import annotations


import pytest

from narrative_fixtures.core.settings import ServiceConfig
from narrative_fixtures.errors import ConfigError
from narrative_fixtures.services.mongodb.provider import (
    PROVIDER, _server_identity, _uri_database, parse_mongodb_uri, resolve_database,
)
from narrative_fixtures.services.mongodb.spec import SPEC
from tests.services.mongodb.provider_support import config
from tests.mongodb_support import LOG_DIR, serial_run, settings
from tests.services.mongodb.recorded_clients import clients_made  # noqa: F401 - a fixture


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


# --- the test database -----------------------------------------------------------------------------------------


def test_without_a_setting_the_database_is_narrative_test(no_worker):
    assert resolve_database(config()) == ("narrative_test", "TEST_MONGODB_DB")
    assert resolve_database(config(), "mongodb://127.0.0.1:1/") == ("narrative_test", "TEST_MONGODB_DB")


def test_test_mongodb_db_names_the_database(no_worker):
    assert resolve_database(config(db="orders_test")) == ("orders_test", "TEST_MONGODB_DB")


def test_the_database_in_the_uri_is_used_and_named_by_the_uri(no_worker):
    assert resolve_database(config(), "mongodb://u:p@127.0.0.1:1/shop_test?authSource=admin") == (
        "shop_test", "TEST_MONGODB_URI")


def test_the_same_database_in_the_uri_and_the_setting_is_fine(no_worker):
    assert resolve_database(config(db="shop_test"), "mongodb://127.0.0.1:1/shop_test") == (
        "shop_test", "TEST_MONGODB_DB")


def test_a_uri_database_and_another_setting_are_one_line_with_the_password_masked(no_worker):
    with pytest.raises(ConfigError) as refused:
        resolve_database(config(db="orders_test"), "mongodb://u:s3cret@127.0.0.1:1/shop_test")
    assert str(refused.value) == (
        "TEST_MONGODB_URI=mongodb://u:***@127.0.0.1:1/shop_test names the database 'shop_test' but"
        " TEST_MONGODB_DB='orders_test'; set only one of them, or the same name in both")


def test_each_xdist_worker_appends_its_name(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert resolve_database(config())[0] == "narrative_test_gw3"
    assert resolve_database(config(), "mongodb://127.0.0.1:1/shop_test") == ("shop_test_gw3", "TEST_MONGODB_URI")


@pytest.mark.parametrize("uri, database", [
    ("mongodb://u:p@h:1/orders_test?replicaSet=rs0", "orders_test"),
    ("mongodb://h1:1,h2:2/my%2Dtest", "my-test"),
    ("mongodb://u:p@h:1/", None),
    ("mongodb://u:p@h:1", None),
    ("mongodb://u:p@h:1?tls=true", None),
    ("mongodb+srv://u:p@cluster.example/app_test", "app_test"),
    ("mongodb://u:p@h:1/orders@eu_test", "orders@eu_test"),  # MongoDB allows '@' in a database name
    ("mongodb://h:1/orders@eu_test?w=1", "orders@eu_test"),
])
def test_the_database_of_a_uri_is_its_path(uri, database):
    assert _uri_database(uri) == database


# --- what the server is ------------------------------------------------------------------------------------------


def test_a_ferretdb_says_so_and_which_mongodb_it_stands_for():
    assert _server_identity({"ferretdbVersion": "v1.24.2", "version": "7.0.42"}) == {
        "backend": "FerretDB", "version": "1.24.2", "mongodb_compat": "7.0.42"}
    assert _server_identity({"version": "7.0.14"}) == {"backend": "MongoDB", "version": "7.0.14",
                                                       "mongodb_compat": None}


def test_another_embedded_server_writes_a_log_named_for_it(tmp_path):
    from narrative_fixtures.provisioning import ProvisionContext
    from narrative_fixtures.services.mongodb.provider import _Instance

    context = _Instance(settings(), "master", instance="orders")
    assert context.log_path("mongodb").name == "mongodb-orders.log"
    assert ProvisionContext(settings(), "master").log_path("mongodb").name == "mongodb.log"
    assert str(context.log_path("mongodb")).startswith(LOG_DIR)


# --- an external server ------------------------------------------------------------------------------------------


def test_an_external_server_is_described_by_its_uri_and_buildinfo(ferretdb, no_worker):
    uri = f"mongodb://localhost:{ferretdb.port}/provider_test"
    endpoint = PROVIDER.connect_external(config(uri=uri), serial_run())
    assert endpoint.service == "mongodb"
    assert (endpoint.mode, endpoint.url, endpoint.host, endpoint.port, endpoint.hosts) == (
        "external", uri, "localhost", ferretdb.port, ("localhost",))
    assert (endpoint.database, endpoint.database_source, endpoint.loopback) == (
        "provider_test", "TEST_MONGODB_URI", True)
    assert (endpoint.backend, endpoint.version) == (ferretdb.backend, ferretdb.version)
    assert (endpoint.username, endpoint.password) == (None, None)
    assert endpoint.details["hosts"] == ["localhost"] and endpoint.details["allow_unsafe"] is False


def test_an_external_uri_without_a_port_means_27017_and_credentials_are_kept(no_worker):
    parsed = parse_mongodb_uri("mongodb://app:s3cret@db.example.com/")
    assert parsed["nodelist"] == [("db.example.com", 27017)]
    assert (parsed["username"], parsed["password"]) == ("app", "s3cret")


def test_allow_unsafe_is_in_the_legacy_details(ferretdb, no_worker):
    uri = f"mongodb://127.0.0.1:{ferretdb.port}/"
    endpoint = PROVIDER.connect_external(config(uri=uri, allow_unsafe="1"), serial_run())
    assert endpoint.details["allow_unsafe"] is True
    assert endpoint.database == "narrative_test" and endpoint.database_source == "TEST_MONGODB_DB"


@pytest.mark.parametrize("uri, problem", [
    ("http://127.0.0.1:1/", "is not a MongoDB URI (expected mongodb://[user:password@]host:port)"),
    ("mongodb://u:s3cret@h:x/", "is not a valid MongoDB URI ("),
])
def test_a_malformed_uri_is_one_line_naming_the_setting(uri, problem):
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect_external(config(uri=uri), serial_run())
    assert str(refused.value).startswith("TEST_MONGODB_URI=")
    assert problem in str(refused.value)
    assert "s3cret" not in str(refused.value)


# --- the embedded server -----------------------------------------------------------------------------------------


def test_the_embedded_server_is_a_ferretdb_on_loopback_with_its_process_and_storage(ferretdb):
    assert (ferretdb.mode, ferretdb.host, ferretdb.hosts, ferretdb.loopback) == (
        "embedded", "127.0.0.1", ("127.0.0.1",), True)
    assert ferretdb.url == f"mongodb://127.0.0.1:{ferretdb.port}/"
    assert (ferretdb.backend, ferretdb.storage, ferretdb.instance) == ("FerretDB", "SQLite", None)
    assert ferretdb.version == "1.24.2" and ferretdb.mongodb_compat.startswith("7.")
    assert ferretdb.pid > 0 and ferretdb.started_in > 0
    # its context is a serial run's ("master"), whatever the outer run's worker: the context names the database
    assert (ferretdb.database, ferretdb.database_source) == ("narrative_test", "TEST_MONGODB_DB")
    assert ferretdb.details["storage"] == "SQLite" and ferretdb.details["allow_unsafe"] is False


def test_a_client_ping_answers_none_from_a_live_server_within_the_health_bound(ferretdb, clients_made):
    from narrative_fixtures.services.mongodb.provider import _client_ping

    assert _client_ping(ferretdb.url) is None
    (made,) = clients_made
    assert made.options.server_selection_timeout == 0.3
    assert (made.options.pool_options.connect_timeout, made.options.pool_options.socket_timeout) == (0.3, 0.3)
    assert made.options.pool_options.metadata["application"] == {"name": "narrative-acceptance"}


def test_the_probe_of_an_external_server_is_bounded_and_named(ferretdb, clients_made, no_worker):
    PROVIDER.connect_external(config(uri=ferretdb.url), serial_run())
    (made,) = clients_made
    assert made.options.server_selection_timeout == 2
    assert (made.options.pool_options.connect_timeout, made.options.pool_options.socket_timeout) == (2, 5)
    assert made.options.pool_options.metadata["application"] == {"name": "narrative-acceptance"}


@pytest.mark.parametrize("uri, database", [
    ("mongodb://h:1/orders_test?appName=a?b", "orders_test"),  # a second question mark is part of the query
    ("mongodb://h:1/orders_test?authMechanismProperties=TOKEN_RESOURCE:https://example.com", "orders_test"),
])
def test_only_the_first_scheme_separator_and_question_mark_end_the_path(uri, database):
    assert _uri_database(uri) == database


def test_another_embedded_server_of_a_factory_is_a_ferretdb_of_its_own_with_its_own_log(no_worker):
    from narrative_fixtures.provisioning import ProvisionContext

    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings(), "master"), instance="orders")
    try:
        assert (endpoint.service, endpoint.mode, endpoint.instance) == ("mongodb", "embedded", "orders")
        assert (endpoint.host, endpoint.hosts, endpoint.port, endpoint.loopback) == (
            "127.0.0.1", ("127.0.0.1",), process.port, True)
        assert endpoint.url == f"mongodb://127.0.0.1:{process.port}/" and endpoint.pid == process.pid
        assert (endpoint.database, endpoint.database_source) == ("narrative_test", "TEST_MONGODB_DB")
        assert (endpoint.backend, endpoint.storage) == ("FerretDB", "SQLite")
        assert endpoint.details["storage"] == "SQLite" and endpoint.details["allow_unsafe"] is False
        assert process.log_path.name == "mongodb-orders.log"
        assert PROVIDER.health(endpoint) is None
    finally:
        process.stop()


def test_the_embedded_server_reports_the_allow_unsafe_setting_in_its_legacy_details(no_worker):
    from narrative_fixtures.provisioning import ProvisionContext

    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings(mongodb_allow_unsafe="true"), "master"))
    try:
        assert endpoint.details["allow_unsafe"] is True and endpoint.instance is None
    finally:
        process.stop()


def test_the_messages_of_a_malformed_uri_name_the_uri_and_the_reason():
    with pytest.raises(ConfigError) as refused:
        parse_mongodb_uri("http://127.0.0.1:1/")
    assert str(refused.value) == (
        "TEST_MONGODB_URI=http://127.0.0.1:1/ is not a MongoDB URI (expected mongodb://[user:password@]host:port)")
    with pytest.raises(ConfigError) as invalid:
        parse_mongodb_uri("mongodb://u:s3cret@h:x/")
    assert str(invalid.value).startswith("TEST_MONGODB_URI=mongodb://u:***@h:x/ is not a valid MongoDB URI (")
    assert "Port contains non-digit characters" in str(invalid.value)


def test_settings_without_their_sources_take_the_database_from_the_uri(no_worker):
    bare = ServiceConfig(SPEC, "external", {"uri": None, "db": "narrative_test", "allow_unsafe": "false",
                                             "models": None})  # no sources recorded: every value is a default
    assert resolve_database(bare, "mongodb://127.0.0.1:1/shop_test") == ("shop_test", "TEST_MONGODB_URI")
    assert resolve_database(config(db=None)) == ("narrative_test", "TEST_MONGODB_DB")


def test_the_embedded_servers_database_is_the_setting_with_a_workers_suffix(monkeypatch):
    from narrative_fixtures.services.mongodb.provider import database_name

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    assert database_name(config(db="orders_test")) == "orders_test_gw2"
