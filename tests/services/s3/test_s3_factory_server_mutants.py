"""The S3 server factory's fixture driven in-process with the test's own ``request`` (no nested pytest, so a mutation
run sees these tests call the factory): another server started for the fixture under the worker's name, watched,
stopped after it or after a failure; S3 turned off, its extra missing, or a server that cannot start decided as the
run's ``s3_service`` would be. No server starts: the provider's start is recorded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.services.common import registry_of
from narrative_fixtures.services.s3 import factories, fidelity
from narrative_fixtures.services.s3.factories import s3_server_factory
from narrative_fixtures.services.s3.provider import PROVIDER

from tests.services.s3.factory_support import finish, inner


class Process:
    def __init__(self):
        self.stopped = 0

    def stop(self):
        self.stopped += 1


@pytest.fixture
def started(monkeypatch):
    """What ``PROVIDER.start_embedded`` and ``fidelity.watch`` were asked (no server starts); its process."""
    asked = SimpleNamespace(starts=[], watched=[], process=Process(), endpoint=object())

    def start_embedded(context, region, server):
        asked.starts.append((context, region, server))
        return asked.endpoint, asked.process

    monkeypatch.setattr(PROVIDER, "start_embedded", start_embedded)
    monkeypatch.setattr(fidelity, "watch", lambda config, endpoint: asked.watched.append((config, endpoint)))
    return asked


def test_another_server_is_started_for_the_fixture_watched_and_stopped_after_it(request, started):
    context = registry_of(request.config).context
    running = inner(s3_server_factory("mutants", region="eu-west-3"))(request)
    assert next(running) is started.endpoint
    (asked, region, server), = started.starts
    assert (asked, region, server) == (context, "eu-west-3", "s3-mutants")  # the run's worker names its bucket
    assert started.watched == [(request.config, started.endpoint)] and started.process.stopped == 0
    with pytest.raises(StopIteration):
        next(running)
    assert started.process.stopped == 1


def test_another_server_of_an_xdist_worker_carries_the_worker_s_id(request, monkeypatch, started):
    monkeypatch.setattr(registry_of(request.config).context, "worker_id", "gw3")
    running = inner(s3_server_factory("mutants"))(request)
    next(running)
    (asked, region, server), = started.starts
    assert (asked.worker_id, region, server) == ("gw3", None, "s3-mutants")
    finish(running)
    assert started.process.stopped == 1


def test_another_server_is_stopped_when_its_test_fails(request, started):
    running = inner(s3_server_factory("mutants"))(request)
    next(running)
    with pytest.raises(RuntimeError):
        running.throw(RuntimeError("the test failed"))
    assert started.process.stopped == 1


@pytest.mark.parametrize("problem", [ServiceUnavailable("moto did not start"), ConfigError("bad TEST_S3_REGION")])
def test_another_server_that_cannot_start_is_decided_as_the_run_s_s3_would_be(request, monkeypatch, problem):
    decided = []

    def refuse(*args):
        raise problem

    def skip_or_fail(*args):
        decided.append(args)
        pytest.skip("decided")

    monkeypatch.setattr(PROVIDER, "start_embedded", lambda context, region, server: refuse())
    monkeypatch.setattr(factories, "skip_or_fail", skip_or_fail)
    with pytest.raises(pytest.skip.Exception):
        next(inner(s3_server_factory("mutants"))(request))
    assert decided == [(request, problem, "s3 unavailable")]


def test_another_server_s_unexpected_error_is_not_taken_for_unavailable(request, monkeypatch):
    monkeypatch.setattr(PROVIDER, "start_embedded", lambda context, region, server: 1 / 0)
    monkeypatch.setattr(factories, "skip_or_fail", lambda *args: pytest.fail("decided as unavailable"))
    with pytest.raises(ZeroDivisionError):
        next(inner(s3_server_factory("mutants"))(request))


class S3Off:
    def __init__(self, mode):
        self.mode = mode


@pytest.mark.parametrize(("mode", "problem"), [("off", None), ("embedded", "install the s3 extra")])
def test_another_server_when_s3_is_off_or_its_extra_missing_asks_the_run_s_s3_what_to_say(
        request, monkeypatch, started, mode, problem):
    asked = []

    def require_service(*args):
        asked.append(args)
        pytest.skip("s3 is turned off")

    monkeypatch.setattr(factories, "settings_of", lambda config: {"s3": S3Off(mode)})
    monkeypatch.setattr(factories, "SPEC", SimpleNamespace(requirements_problem=lambda: problem))
    monkeypatch.setattr(factories, "require_service", require_service)
    with pytest.raises(pytest.skip.Exception, match="s3 is turned off"):
        next(inner(s3_server_factory("mutants"))(request))
    assert asked == [(request, "s3")] and not started.starts


def test_another_server_when_s3_is_on_and_installed_asks_nothing(request, monkeypatch, started):
    monkeypatch.setattr(factories, "settings_of", lambda config: {"s3": S3Off("external")})
    monkeypatch.setattr(factories, "SPEC", SimpleNamespace(requirements_problem=lambda: None))
    monkeypatch.setattr(factories, "require_service", lambda *args: pytest.fail("asked the run's s3"))
    running = inner(s3_server_factory("mutants"))(request)
    assert next(running) is started.endpoint
    finish(running)
