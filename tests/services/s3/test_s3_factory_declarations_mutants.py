"""What the S3 fixture factories declare, called in the test (no nested pytest, so a mutation run sees these tests
call them): each fixture's name, scope, the fixtures it needs, its reference text, and the arguments it refuses.
The fixtures at work: test_s3_factory_fixtures_mutants.py (driven in-process) and test_s3_factories.py (as a
project uses them)."""

from __future__ import annotations

import inspect

import pytest

from narrative_fixtures.services.s3.factories import (
    bucket_factory,
    make_fixture,
    s3_client_factory,
    s3_file_factory,
    s3_server_factory,
)


def declared(fixture):
    """(pytest's name for it, the function pytest calls, its scope)."""
    return fixture.name, fixture._get_wrapped_function(), fixture._fixture_function_marker.scope


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_a_fixture_made_from_a_body_passes_it_the_request_then_the_needed_fixtures_in_order():
    seen = []

    def body(request, first, second):
        seen.append((request, first, second))
        yield "made"

    name, function, scope = declared(make_fixture(body, ("alpha", "beta"), scope="module", doc="Its doc.",
                                                  name="made_here"))
    assert (name, scope, parameters(function)) == ("made_here", "module", ["request", "alpha", "beta"])
    assert function.__doc__ == "Its doc." and isinstance(function.__module__, str) and function.__module__
    running = function("the request", beta=2, alpha=1)
    assert next(running) == "made" and seen == [("the request", 1, 2)]
    with pytest.raises(StopIteration):
        next(running)


def test_a_fixture_needing_the_same_fixture_twice_is_refused_naming_it():
    with pytest.raises(ValueError) as refused:
        make_fixture(lambda request, a, b: iter(()), ("s3_client", "s3_client"), scope="function", doc="",
                     name="twice")
    assert str(refused.value) == "twice: a fixture cannot need the same fixture twice (s3_client, s3_client)"


def test_another_server_is_a_session_fixture_named_for_it_that_needs_nothing():
    name, function, scope = declared(s3_server_factory())
    assert (name, scope, parameters(function)) == ("s3_server_second", "session", ["request"])
    assert function.__doc__ == (
        "Another embedded S3 server ('second'): its own moto process and log, stopped after each session.")


def test_another_server_takes_its_name_scope_and_reference_text_from_the_call():
    name, function, scope = declared(s3_server_factory("replica_2", scope="module"))
    assert (name, scope) == ("s3_server_replica_2", "module")
    assert function.__doc__ == (
        "Another embedded S3 server ('replica_2'): its own moto process and log, stopped after each module.")
    _, documented, _ = declared(s3_server_factory("third", doc="The third server."))
    assert documented.__doc__ == "The third server."


@pytest.mark.parametrize("name", ["a", "9", "second-server_2", "A" + "b" * 39])
def test_a_server_name_of_letters_digits_dashes_and_underscores_up_to_40_is_accepted(name):
    assert declared(s3_server_factory(name))[0] == f"s3_server_{name}"


@pytest.mark.parametrize("name", ["", "-second", "_second", "second.log", "../up", "with space", "a" * 41,
                                  "second\n"])
def test_a_server_name_that_cannot_name_a_log_file_is_refused_in_one_line(name):
    with pytest.raises(ValueError) as refused:
        s3_server_factory(name)
    assert str(refused.value) == (
        f"s3_server_factory(name={name!r}): use letters, digits, '-' or '_' (it names a log file)")


def test_a_client_is_a_session_fixture_of_the_run_s_endpoint_by_default():
    name, function, scope = declared(s3_client_factory())
    assert (name, scope, parameters(function)) == ("s3_client_of_s3_service", "session", ["request", "s3_service"])
    assert function.__doc__ == (
        "A boto3 S3 client of `s3_service` (2 s connect / 2 s read, one attempt), closed after each session.")


def test_a_client_of_another_endpoint_names_it_its_timeouts_and_scope():
    name, function, scope = declared(s3_client_factory("s3_second", scope="module", connect_timeout=0.5,
                                                       read_timeout=30))
    assert (name, scope, parameters(function)) == ("s3_client_of_s3_second", "module", ["request", "s3_second"])
    assert function.__doc__ == (
        "A boto3 S3 client of `s3_second` (0.5 s connect / 30 s read, one attempt), closed after each module.")
    assert declared(s3_client_factory(doc="Mine."))[1].__doc__ == "Mine."


def test_the_test_bucket_is_a_function_fixture_of_the_run_s_client_and_endpoint():
    name, function, scope = declared(bucket_factory())
    assert (name, scope, parameters(function)) == ("bucket_test", "function", ["request", "s3_client", "s3_service"])
    assert function.__doc__ == (
        "An empty bucket TEST_S3_BUCKET (with the run's suffixes) on `s3_service`, one per function; removed"
        " afterwards with everything in it. A bucket this run did not create is never touched.")


def test_a_named_bucket_names_its_fixture_client_endpoint_and_scope():
    name, function, scope = declared(bucket_factory("test-exports", client="s3_second_client", service="s3_second",
                                                    scope="session"))
    assert (name, scope) == ("bucket_test-exports", "session")
    assert parameters(function) == ["request", "s3_second_client", "s3_second"]
    assert function.__doc__ == (
        "An empty bucket test-exports (with the run's suffixes) on `s3_second`, one per session; removed"
        " afterwards with everything in it. A bucket this run did not create is never touched.")
    assert declared(bucket_factory(doc="Ours."))[1].__doc__ == "Ours."


def test_the_test_file_is_a_function_fixture_of_the_run_s_client_and_test_bucket():
    name, function, scope = declared(s3_file_factory())
    assert (name, scope) == ("s3_file_test_s3_bucket", "function")
    assert parameters(function) == ["request", "s3_client", "test_s3_bucket"]
    assert function.__doc__ == (
        "The file test-data/test_file.csv (text/csv) uploaded to `test_s3_bucket`; it goes with the bucket.")


def test_another_file_names_its_key_type_bucket_client_and_scope():
    name, function, scope = declared(s3_file_factory("exports/a.json", b"{}", content_type="application/json",
                                                     bucket="exports_bucket", client="s3_second_client",
                                                     scope="module"))
    assert (name, scope) == ("s3_file_exports_bucket", "module")
    assert parameters(function) == ["request", "s3_second_client", "exports_bucket"]
    assert function.__doc__ == (
        "The file exports/a.json (application/json) uploaded to `exports_bucket`; it goes with the bucket.")
    assert declared(s3_file_factory(doc="A file."))[1].__doc__ == "A file."
