"""What ``mongodb_service`` yields, checked directly: the variables an application under test (or another run of
the plugin) is given, and the deprecated ``details`` dict, the same keys and values as before the attributes, for
an embedded and an external server. Found unchecked by the mutation run (docs/mutation.md)."""

from __future__ import annotations

from narrative_fixtures.services.mongodb.endpoint import MongoDBEndpoint

EXTERNAL_URL = "mongodb://app:s3cret@127.0.0.1:27018,localhost:27019/orders_test?replicaSet=rs0"


def embedded() -> MongoDBEndpoint:
    return MongoDBEndpoint(
        "mongodb", "embedded", "mongodb://127.0.0.1:40001/", backend="FerretDB", version="2.5.0",
        mongodb_compat="7.0.77", host="127.0.0.1", port=40001, hosts=("127.0.0.1",), database="narrative_test_gw1",
        database_source="TEST_MONGODB_DB", loopback=True, storage="SQLite", pid=4242,
    )


def external(**changes) -> MongoDBEndpoint:
    values = dict(backend="MongoDB", version="7.0.14", host="127.0.0.1", port=27018,
                  hosts=("127.0.0.1", "localhost"), database="orders_test", database_source="TEST_MONGODB_URI",
                  loopback=True, username="app", password="s3cret")
    values.update(changes)
    return MongoDBEndpoint("mongodb", "external", EXTERNAL_URL, **values)


def test_an_application_is_given_the_url_under_both_names_and_the_test_database():
    assert dict(embedded().environment()) == {
        "MONGODB_URL": "mongodb://127.0.0.1:40001/", "MONGODB_URI": "mongodb://127.0.0.1:40001/",
        "MONGODB_DATABASE": "narrative_test_gw1",
    }


def test_another_run_of_the_plugin_is_given_the_server_and_the_database_as_its_settings():
    assert dict(external().settings_environment()) == {"TEST_MONGODB_URI": EXTERNAL_URL,
                                                       "TEST_MONGODB_DB": "orders_test"}


def test_the_legacy_details_of_an_embedded_server_name_its_storage_and_process_but_no_hosts():
    endpoint = embedded().with_legacy_details(allow_unsafe=False)
    assert endpoint.details == {
        "mongodb_compat": "7.0.77", "storage": "SQLite", "pid": 4242, "database": "narrative_test_gw1",
        "database_source": "TEST_MONGODB_DB", "loopback": True, "allow_unsafe": False,
    }


def test_the_legacy_details_of_an_external_server_list_its_hosts_and_no_process():
    endpoint = external().with_legacy_details(allow_unsafe=True)
    assert endpoint.details == {
        "database": "orders_test", "database_source": "TEST_MONGODB_URI", "hosts": ["127.0.0.1", "localhost"],
        "loopback": True, "allow_unsafe": True,
    }


def test_the_legacy_details_say_a_remote_server_is_not_on_loopback():
    endpoint = external(loopback=False, mongodb_compat="7.0.0", backend="FerretDB").with_legacy_details(False)
    assert endpoint.details["loopback"] is False
    assert endpoint.details["mongodb_compat"] == "7.0.0"
    assert endpoint.details["hosts"] == ["127.0.0.1", "localhost"]
