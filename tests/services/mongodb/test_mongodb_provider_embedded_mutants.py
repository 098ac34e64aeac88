"""The embedded server as the provider starts it, called directly inside each test: FerretDB built into the
configured cache only when the cache holds no working one, and a server that answers ping but not buildInfo
stopped with one line naming its log. (Its endpoint's attributes: test_mongodb_provider_mutants.py.)"""

from __future__ import annotations

import pytest

from narrative_fixtures.errors import ServiceUnavailable
from narrative_fixtures.provisioning import ProvisionContext
from narrative_fixtures.services.mongodb import provider
from narrative_fixtures.services.mongodb.server import ferretdb_binary, ping_problem
from tests.mongodb_support import settings


@pytest.fixture
def builds(monkeypatch) -> list:
    """The caches ``build_ferretdb`` is asked to build into (with the run's environment); the build itself is the
    cache's working binary."""
    asked = []
    working = ferretdb_binary(settings().cache_dir)

    def build(cache_dir, environment):
        assert environment.get("PATH"), "the build is not given the run's environment"
        asked.append(cache_dir)
        return working

    monkeypatch.setattr(provider, "build_ferretdb", build)
    return asked


def test_a_cache_with_a_working_ferretdb_is_used_as_it_is(builds):
    endpoint, process = provider.PROVIDER.start_embedded(ProvisionContext(settings(), "master"))
    process.stop()
    assert builds == []
    assert endpoint.backend == "FerretDB"


def test_a_cache_without_one_gets_it_built_there_first(builds, tmp_path):
    empty = tmp_path / "cache"
    endpoint, process = provider.PROVIDER.start_embedded(
        ProvisionContext(settings(services_cache_dir=str(empty)), "master"))
    process.stop()
    assert builds == [empty]
    assert endpoint.backend == "FerretDB"


def test_a_server_that_answers_ping_but_not_buildinfo_is_stopped_with_one_line(monkeypatch):
    started = []

    def no_build_info(url, database):
        started.append(url)
        raise RuntimeError("connection reset")

    monkeypatch.setattr(provider, "_build_info", no_build_info)
    with pytest.raises(ServiceUnavailable) as refused:
        provider.PROVIDER.start_embedded(ProvisionContext(settings(), "master"))
    message = str(refused.value)
    assert message.startswith("FerretDB answered ping but not buildInfo (connection reset; log: ")
    assert message.endswith("mongodb.log)")
    port = int(started[0].rsplit(":", 1)[1].strip("/"))
    assert ping_problem("127.0.0.1", port, timeout=0.5) is not None  # the server was stopped
