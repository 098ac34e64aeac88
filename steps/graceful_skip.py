"""Steps of "Tests gracefully skip when services unavailable": the service features run again, nothing reachable.

Every registered service points at a closed port in external mode; the nested run (see ``steps.nested``) is read
scenario by scenario: skipped (or failed, when the services are required) with a message naming the setting.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import given, then, when

from narrative_fixtures.core.catalog import service_specs
from narrative_fixtures.core.network import free_port
from steps.nested import NestedRun, attach_run, listed, report_figure, run_service_features


@given("no test service can be reached, each service pointing at a closed port", target_fixture="unreachable_env")
def unreachable_env() -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    for spec in service_specs().values():
        env[spec.connection_env] = spec.unreachable_url.format(port=free_port())  # nothing listens there
        env[spec.mode_setting.env] = "external"
    env["TEST_REQUIRE_SERVICES"] = None
    return env


_UNREACHABLE_RUNS = pytest.StashKey[dict]()


def _unreachable_run(request, unreachable_env, *args: str) -> NestedRun:
    """The service features run with no service reachable, once per run and arguments: the scenarios that give the
    same Given and When read the same nested run (each run takes seconds; its result would be the same)."""
    runs = request.config.stash.setdefault(_UNREACHABLE_RUNS, {})
    if args not in runs:
        pytester: pytest.Pytester = request.getfixturevalue("pytester")
        runs[args] = run_service_features(pytester, Path(request.config.rootpath), unreachable_env, *args)
    return runs[args]


@when("the service features are run", target_fixture="nested")
def run_unreachable(request, unreachable_env) -> NestedRun:
    run = _unreachable_run(request, unreachable_env)
    attach_run(request, "service features, no service reachable", run)
    return run


@when("the service features are run with the services required", target_fixture="nested")
def run_unreachable_strict(request, unreachable_env) -> NestedRun:
    run = _unreachable_run(request, unreachable_env, "--require-services")
    attach_run(request, "service features, no service reachable, --require-services", run)
    return run


def _settings_named(scenario: dict) -> list[str]:
    specs = service_specs()
    return [specs[m].connection_env for m in scenario.get("markers") or [] if m in specs]


@then("every service scenario is skipped")
def all_skipped(nested: NestedRun):
    scenarios = nested.service_scenarios()
    assert scenarios, "the service features hold no scenario marked with a service"
    not_skipped = [f"{s['scenario']}: {s['outcome']}" for s in scenarios if s["outcome"] != "skipped"]
    assert not not_skipped, "not skipped: " + listed(not_skipped)
    assert nested.result.ret == 0, f"a run of skips must succeed, exit status was {nested.result.ret}"


@then("each skip message names the setting of its service")
def skip_names_setting(nested: NestedRun):
    unnamed = [
        f"{s['scenario']}: {s['reason']}"
        for s in nested.service_scenarios()
        if not any(setting in s["reason"] for setting in _settings_named(s))
    ]
    assert not unnamed, "skip messages that name no setting: " + listed(unnamed)


@then("each unreachable service was tried exactly once")
def tried_once(nested: NestedRun):
    specs = service_specs()
    needed = {m for s in nested.service_scenarios() for m in s.get("markers") or [] if m in specs}
    assert needed, "no service scenario ran"
    attempts = {name: nested.probes.attempts.get(name, 0) for name in sorted(needed)}
    assert all(count == 1 for count in attempts.values()), f"provisioning attempts per service: {attempts}"


@then("the time the whole run took is reported")
def run_time_reported(request, nested: NestedRun):
    skipped = nested.count("skipped")
    assert skipped and nested.elapsed > 0
    report_figure(
        request,
        f"graceful skip: {skipped} service scenarios skipped in {nested.elapsed:.2f} s"
        f" ({len(nested.probes.attempts)} services, one attempt each)",
    )


@then("every service scenario fails with a message naming the setting of its service")
def all_fail_strict(nested: NestedRun):
    scenarios = nested.service_scenarios()
    assert scenarios, "the service features hold no scenario marked with a service"
    wrong = [
        f"{s['scenario']}: {s['outcome']} ({s['reason']})"
        for s in scenarios
        if s["outcome"] not in ("failed", "error") or not any(x in s["reason"] for x in _settings_named(s))
    ]
    assert not wrong, "not failed with a message naming the setting: " + listed(wrong)


@then("the run ends with a failing exit status")
def failing_exit(nested: NestedRun):
    assert nested.result.ret == pytest.ExitCode.TESTS_FAILED, f"exit status {nested.result.ret}"
