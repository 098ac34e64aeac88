"""The provider's health check called directly: None while a server answers on any of its hosts, else the reason
(each host's, a TLS URI's client ping, the class of an error it could not ping with), and the one-line text every
reason passes through (``_hide``). The nested runs show the same as users meet it; the mutation run cannot see
into those."""

from __future__ import annotations

import pytest

from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint
from narrative_fixtures.services.mongodb.provider import PROVIDER, _hide
from tests.mongodb_support import serial_run
from tests.services.mongodb.provider_support import config, free_port


# --- health ------------------------------------------------------------------------------------------------------


def test_a_server_answers_on_any_of_its_hosts(ferretdb):
    dead = free_port()
    endpoint = PROVIDER.connect_external(config(uri=f"mongodb://127.0.0.1:{ferretdb.port}/"), serial_run())
    assert PROVIDER.health(endpoint) is None
    endpoint.url = f"mongodb://127.0.0.1:{dead},127.0.0.1:{ferretdb.port}/?replicaSet=rs0"
    assert PROVIDER.health(endpoint) is None


def test_no_answering_host_names_each_hosts_problem():
    first, second = free_port(), free_port()
    endpoint = type("E", (), {"url": f"mongodb://127.0.0.1:{first},127.0.0.1:{second}/?replicaSet=rs0"})()
    reason = PROVIDER.health(endpoint)
    assert reason.startswith(f"no host answers (cannot connect to 127.0.0.1:{first} (")
    assert f"; cannot connect to 127.0.0.1:{second} (" in reason


def test_a_tls_uri_is_pinged_by_a_client_with_the_same_bound():
    port = free_port()
    endpoint = type("E", (), {"url": f"mongodb://u:s3cret@127.0.0.1:{port}/?tls=true"})()
    reason = PROVIDER.health(endpoint)
    assert reason.startswith("no answer to ping within 0.3 s (")
    assert "s3cret" not in reason


@pytest.mark.parametrize("option", ["tls=true", "ssl=true"])
def test_a_tls_uri_is_pinged_by_a_client_at_its_own_address(option):
    port = free_port()
    endpoint = type("E", (), {"url": f"mongodb://127.0.0.1:{port}/?{option}"})()
    reason = PROVIDER.health(endpoint)
    assert reason.startswith("no answer to ping within 0.3 s (") and str(port) in reason
    inner = reason.split(" s (", 1)[1]
    assert " " in inner and not any(part in inner for part in ("Timeout:", "Topology"))  # PyMongo's reason alone


def test_a_host_without_a_port_is_pinged_on_27017():
    endpoint = type("E", (), {"url": "mongodb://127.0.0.1/"})()
    assert PROVIDER.health(endpoint).startswith("cannot connect to 127.0.0.1:27017 (")


def test_a_uri_it_cannot_ping_is_named_by_the_class_of_the_error():
    srv = MongoDBEndpoint("mongodb", "external", "mongodb+srv://u:s3cret@cluster.invalid/", "MongoDB", "7.0")
    assert PROVIDER.health(srv) == "health check failed (ConfigurationError)"  # its DNS lookup fails


def test_every_reason_is_one_line_with_the_uris_secrets_masked():
    assert _hide("line one\n  line two s3cret", "mongodb://u:s3cret@h/") == "line one line two ***"
    assert _hide(ValueError("refused  twice"), None) == "refused twice"
    assert _hide("", "mongodb://u:s3cret@h/") == ""
