"""An external server as the provider reaches it, called directly: the one line when nothing listens (found at once
by the quick check), when a server accepts but never answers, when there is no URI, and the credentials a server
refuses or takes. The nested runs show the same as users meet it; the mutation run cannot see into those."""

from __future__ import annotations

import socket

import pytest

from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.services.mongodb.provider import PROVIDER
from tests.mongodb_support import serial_run
from tests.services.mongodb.provider_support import config, free_port


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


def test_a_refused_port_is_named_at_once_by_the_connection_check(no_worker):
    from narrative_fixtures.core.network import refused

    uri = f"mongodb://u:s3cret@127.0.0.1:{free_port()}/"
    with pytest.raises(ServiceUnavailable) as unreachable:
        PROVIDER.connect_external(config(uri=uri), serial_run())
    reason = refused(uri)
    assert reason and str(unreachable.value).endswith(f" within 2 s ({reason.replace('s3cret', '***')})")


def test_no_uri_at_all_is_no_mongodb_uri(no_worker):
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect_external(config(), serial_run())
    assert str(refused.value) == (
        "TEST_MONGODB_URI= is not a MongoDB URI (expected mongodb://[user:password@]host:port)")


@pytest.fixture(scope="module")
def secured():
    """A FerretDB that wants credentials (user ``app``); its URL without them."""
    from tests.mongodb_support import own_ferretdb_with_users

    with own_ferretdb_with_users("app", "right-password") as url:
        yield url


def test_wrong_credentials_are_a_setting_to_fix_with_the_servers_reason(secured, no_worker):
    uri = secured.replace("mongodb://", "mongodb://app:wrong-password@") + "orders_test?authSource=admin"
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect_external(config(uri=uri), serial_run())
    message = str(refused.value)
    assert message.startswith(
        f"MongoDB refused the credentials in TEST_MONGODB_URI={uri.replace('wrong-password', '***')} for database"
        " 'orders_test' (")
    assert "wrong-password" not in message and "\n" not in message
    assert message.endswith(" (Authentication failed.)")  # the server's errmsg, not the whole error


def test_the_right_credentials_are_the_endpoints(secured, no_worker):
    uri = secured.replace("mongodb://", "mongodb://app:right-password@") + "orders_test?authSource=admin"
    endpoint = PROVIDER.connect_external(config(uri=uri), serial_run())
    assert (endpoint.username, endpoint.password, endpoint.database) == ("app", "right-password", "orders_test")
    assert "right-password" not in repr(endpoint)


def test_a_refused_port_is_found_by_the_quick_check_of_the_uri(no_worker, monkeypatch):
    from narrative_fixtures.services.mongodb import provider

    asked = []
    monkeypatch.setattr(provider, "refused", lambda uri: asked.append(uri) or "connection refused")
    uri = f"mongodb://127.0.0.1:{free_port()}/"
    with pytest.raises(ServiceUnavailable, match=r"within 2 s \(connection refused\)$"):
        PROVIDER.connect_external(config(uri=uri), serial_run())
    assert asked == [uri]


def test_a_server_that_accepts_but_never_answers_is_named_by_pymongos_reason_alone(no_worker):
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port, accepted = listener.getsockname()[1], []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        with pytest.raises(ServiceUnavailable) as unreachable:
            PROVIDER.connect_external(config(uri=f"mongodb://127.0.0.1:{port}/"), serial_run())
    finally:
        listener.close()
        for connection in accepted:
            connection.close()
    message = str(unreachable.value)
    prefix = f"cannot reach MongoDB at TEST_MONGODB_URI=mongodb://127.0.0.1:{port}/ within 2 s ("
    assert message.startswith(prefix) and message.endswith(")")
    reason = message[len(prefix):-1]  # "127.0.0.1:<port>: timed out" or "No servers found yet", as PyMongo says
    assert " " in reason and reason != "None"
    assert not any(part in reason for part in ("TimeoutMS", "Timeout:", "Topology"))  # its timeouts cut off


def test_an_unreachable_server_is_one_line_naming_the_setting_with_the_password_masked(no_worker):
    port = free_port()
    with pytest.raises(ServiceUnavailable) as refused:
        PROVIDER.connect_external(config(uri=f"mongodb://u:s3cret@127.0.0.1:{port}/"), serial_run())
    message = str(refused.value)
    assert message.startswith(f"cannot reach MongoDB at TEST_MONGODB_URI=mongodb://u:***@127.0.0.1:{port}/ within 2 s (")
    assert "s3cret" not in message and "\n" not in message


@pytest.fixture
def probe_fails(monkeypatch):
    """The external probe answering with ``error`` (as a server would); the quick connection check finds a listener."""
    from narrative_fixtures.services.mongodb import provider

    def fail_with(error: Exception) -> None:
        def build_info(uri, database):
            raise error

        monkeypatch.setattr(provider, "refused", lambda uri: None)
        monkeypatch.setattr(provider, "_build_info", build_info)

    return fail_with


URI = "mongodb://app:s3cret@127.0.0.1:27999/orders_test"


@pytest.mark.parametrize("code, errmsg", [(13, "not allowed to list the collections of orders_test"),
                                          (18, "invalid username or password"), (99, "SASL auth conversation failed")])
def test_a_refusal_of_the_credentials_is_a_setting_to_fix(probe_fails, no_worker, code, errmsg):
    from pymongo.errors import OperationFailure

    probe_fails(OperationFailure("ignored", code, {"errmsg": f"{errmsg} (s3cret)"}))
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect_external(config(uri=URI), serial_run())
    assert str(refused.value) == (
        "MongoDB refused the credentials in TEST_MONGODB_URI=mongodb://app:***@127.0.0.1:27999/orders_test for"
        f" database 'orders_test' ({errmsg} (***))")


def test_any_other_failure_of_the_probe_is_an_unavailable_server(probe_fails, no_worker):
    from pymongo.errors import OperationFailure

    probe_fails(OperationFailure("the probe failed for s3cret", 2, None))  # no details: the error's own text
    with pytest.raises(ServiceUnavailable) as unavailable:
        PROVIDER.connect_external(config(uri=URI), serial_run())
    assert str(unavailable.value) == (
        "MongoDB at TEST_MONGODB_URI=mongodb://app:***@127.0.0.1:27999/orders_test failed a probe (the probe failed"
        " for ***)")


def test_a_connection_failure_is_unreachable_with_the_secret_masked(probe_fails, no_worker):
    from pymongo.errors import ConnectionFailure

    probe_fails(ConnectionFailure("reset by 127.0.0.1:27999 for app:s3cret, Timeout: 2.0s, Topology Description: x"))
    with pytest.raises(ServiceUnavailable) as unreachable:
        PROVIDER.connect_external(config(uri=URI), serial_run())
    assert str(unreachable.value).endswith(" within 2 s (reset by 127.0.0.1:27999 for app:***)")


def test_the_quick_checks_reason_has_the_secret_masked(no_worker, monkeypatch):
    from narrative_fixtures.services.mongodb import provider

    monkeypatch.setattr(provider, "refused", lambda uri: "127.0.0.1:27999 refused app:s3cret")
    with pytest.raises(ServiceUnavailable) as unreachable:
        PROVIDER.connect_external(config(uri=URI), serial_run())
    assert str(unreachable.value).endswith(" within 2 s (127.0.0.1:27999 refused app:***)")
