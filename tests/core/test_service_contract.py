"""The contract every service keeps, written once and run for each registered service: the built-in ones and the
echo service of the test package ``tests/extension`` (registered from outside, through the entry point).

- unreachable: its tests are skipped naming the connection setting; the service is probed once for the run, in the
  first test's setup, and the rest are served the remembered failure with no provider call (no seconds are
  asserted: bench/timing.py measures them);
- strict (``--require-services``): the same tests fail, naming the setting;
- off: skipped naming the mode variable, never probed;
- embedded: no process, port or work folder of the service is left after the run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from narrative_fixtures.core.catalog import service_specs
from narrative_fixtures.core.network import free_port, port_accepts, url_address
from tests.extension import echo_spec, install

SPECS = [*service_specs().values(), echo_spec()]

# Counts every start or probe of each service (through a wrapper around its provider) and the test it happened in,
# and notes each test's setup outcome and message, whether the registry already knew the service's failure when the
# setup began, the owned server's pid, work folder and address: what the assertions read.
RECORDING_CONFTEST = """
import json, os, pytest
from narrative_fixtures.services.common import registry_of

PROBES = []
SETUPS = []
SERVERS = []
CURRENT = {"test": None, "known": None}


class Counted:
    def __init__(self, provider):
        self._provider = provider

    def __getattr__(self, attribute):
        value = getattr(self._provider, attribute)
        if attribute not in ("start_embedded", "connect_external"):
            return value

        def counted(*args, **kwargs):
            PROBES.append({"call": attribute, "during": CURRENT["test"]})
            return value(*args, **kwargs)
        return counted


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    registry = registry_of(config)
    for name, load in list(registry.providers.items()):
        registry.providers[name] = lambda load=load: Counted(load())


@pytest.fixture
def recorded(request):
    name = os.environ["CONTRACT_SERVICE"]
    endpoint = request.getfixturevalue(name + "_service")
    owned = registry_of(request.config).owned(name)
    SERVERS.append({"pid": getattr(owned, "pid", None), "workdir": str(getattr(owned, "workdir", "") or ""),
                    "url": endpoint.url})
    return endpoint


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    CURRENT["test"] = item.name
    CURRENT["known"] = registry_of(item.config).failure(os.environ["CONTRACT_SERVICE"]) is not None


def pytest_runtest_logreport(report):
    if report.when == "setup":
        longrepr = report.longrepr  # a skip's is (path, line, reason): the reason is the message
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
        SETUPS.append({"outcome": report.outcome, "message": message,
                       "failure_known_before": CURRENT["known"]})


def pytest_unconfigure(config):
    with open(os.environ["CONTRACT_RECORD"], "w") as out:
        json.dump({"probes": PROBES, "setups": SETUPS, "servers": SERVERS}, out)
"""

TWO_TESTS = "def test_first(recorded):\n    pass\n\n\ndef test_second(recorded):\n    pass\n"


def run(project: pytest.Pytester, spec, env: dict[str, str], *args: str):
    install(project)  # the echo package, for every service: the built-in ones must not mind another being there
    project.makeconftest(RECORDING_CONFTEST)
    project.makepyfile(test_contract=TWO_TESTS)
    record = project.path / "record.json"
    for variable, value in {"CONTRACT_SERVICE": spec.name, "CONTRACT_RECORD": str(record), **env}.items():
        project._monkeypatch.setenv(variable, value)
    result = project.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)
    return result, json.loads(record.read_text())


def unreachable(spec) -> dict[str, str]:
    return {spec.connection_env: spec.unreachable_url.format(port=free_port()), spec.mode_setting.env: "external"}


def ids(spec) -> str:
    return spec.name


@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_unreachable_is_skipped_naming_the_setting_and_probed_once(project, spec):
    result, record = run(project, spec, unreachable(spec))
    result.assert_outcomes(skipped=2)
    assert result.ret == 0
    assert record["probes"] == [{"call": "connect_external", "during": "test_first"}], "probed once, by the first"
    first, second = record["setups"]
    for setup in (first, second):
        assert f"{spec.name} unavailable" in setup["message"] and spec.connection_env in setup["message"]
    assert not first["failure_known_before"] and second["failure_known_before"], "the second met a known failure"
    assert second["message"] == first["message"], "the remembered failure, word for word"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_unreachable_fails_in_strict_mode_naming_the_setting(project, spec):
    result, record = run(project, spec, unreachable(spec), "--require-services")
    result.assert_outcomes(errors=2)
    assert [probe["call"] for probe in record["probes"]] == ["connect_external"]
    for setup in record["setups"]:
        assert spec.connection_env in setup["message"] and "[strict mode: --require-services]" in setup["message"]
        assert "Traceback" not in setup["message"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_off_is_skipped_naming_the_mode_variable_and_never_probed(project, spec):
    result, record = run(project, spec, {spec.mode_setting.env: "off"})
    result.assert_outcomes(skipped=2)
    assert record["probes"] == []
    for setup in record["setups"]:
        assert f"{spec.name} is turned off" in setup["message"] and spec.mode_setting.env in setup["message"]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie not yet reaped by its parent is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.timeout(300)
@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_an_embedded_run_leaves_no_process_port_or_folder(project, spec):
    result, record = run(project, spec, {spec.mode_setting.env: "embedded"})
    result.assert_outcomes(passed=2)
    assert [probe["call"] for probe in record["probes"]] == ["start_embedded"], "one server for the whole run"
    servers = {json.dumps(server, sort_keys=True) for server in record["servers"]}
    assert len(servers) == 1, "both tests saw the same server"
    server = record["servers"][0]
    assert not (server["pid"] and pid_alive(server["pid"])), f"{spec.name} server {server['pid']} outlived the run"
    assert not (server["workdir"] and Path(server["workdir"]).exists()), "its work folder is removed"
    host, port = url_address(server["url"])
    assert not port_accepts(host, port), f"something still listens at {host}:{port}"
