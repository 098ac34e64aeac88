"""Steps of "Integration test examples for each fixture type": the examples are this run's own scenarios.

The criterion's scenarios run last (the collection hook below) and read the sign-off recorder's records of every
other selected scenario: its outcome and the fixtures it really used. Under pytest-xdist each worker appends its
finished records to a directory the controller shares with all of them, and the examples wait (bounded) until
every other selected scenario has a record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from pytest_bdd import given, parsers, then

from narrative_fixtures.core.catalog import service_packages
from narrative_fixtures.signoff.allure_labels import attach
from narrative_fixtures.signoff.collect import labels_of, plugin_fixture_modules, scenario_template
from narrative_fixtures.signoff.coverage import in_package
from narrative_fixtures.signoff.model import Scenario, passing_by_fixture
from narrative_fixtures.signoff.plugin import RECORDER_KEY, RunRecorder
from steps.nested import attach_csv, listed, report_figure

EXAMPLES_CRITERION = "examples"
EXAMPLES_WAIT_S = 120.0  # xdist: how long the examples wait for the other workers' scenarios to finish


def is_examples_item(item: pytest.Item) -> bool:
    return labels_of(item).get("criterion") == EXAMPLES_CRITERION


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, so they stay last in every order
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The examples criterion judges the run's other scenarios, so its scenarios run after all of them."""
    examples = [item for item in items if is_examples_item(item)]
    if examples and len(examples) < len(items):
        items[:] = [item for item in items if not is_examples_item(item)] + examples


def _recorder(config: pytest.Config) -> RunRecorder | None:
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None:  # a nested run handed its own recorder as a plugin
        recorder = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, RunRecorder)), None)
    return recorder


def _service_of_fixture(module: str) -> str | None:
    """The service a fixture belongs to, from the plugin module that defines it (None: it serves every service)."""
    return next((name for name, package in service_packages().items() if in_package(module, package)), None)


@dataclass
class RunExamples:
    """The other scenarios of this run, as the sign-off recorder saw them finish."""

    records: list[dict]  # one per other selected scenario
    selected: dict[str, int]  # service -> how many of its scenarios this run selected
    fixtures: dict[str, str | None]  # fixture the plugin registers -> its service (None: every service's)
    waited: float = 0.0

    def passing_fixtures(self) -> dict[str, list[str]]:
        """fixture name -> passing scenarios (``feature: scenario``) that used it."""
        used = passing_by_fixture(Scenario.from_record(record) for record in self.records)
        return {name: [f"{s.feature}: {s.name}" for s in scenarios] for name, scenarios in used.items()}

    def of_service(self, service: str) -> list[dict]:
        return [r for r in self.records if service in (r.get("markers") or [])]

    def unproven(self, service: str | None) -> str | None:
        """Why the examples of ``service`` prove nothing in this run (not selected, all skipped), or None."""
        if service is None:
            return None if self.selected else "no service scenario was selected in this run"
        if not self.selected.get(service):
            return f"no {service} scenario was selected in this run"
        records = self.of_service(service)
        if records and all(r["outcome"] == "skipped" for r in records):
            return f"every {service} scenario was skipped ({records[0]['reason']})"
        return None

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        shown = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "none"
        services = ", ".join(sorted(s for s, n in self.selected.items() if n)) or "no service"
        return f"{len(self.records)} other scenarios of this run ({shown}; services: {services})"


def _wait_for_records(recorder: RunRecorder, expected: list[str]) -> dict[str, dict]:
    """Every expected scenario's record, waiting (bounded) for other xdist workers; fails naming the missing."""
    began = time.monotonic()
    while True:
        records = recorder.run_records()
        missing = [nodeid for nodeid in expected if nodeid not in records]
        if not missing:
            return records
        if recorder.shared_dir is None:
            pytest.fail(
                f"{len(missing)} scenarios of this run had not finished before the examples: {listed(missing, 3)}"
                " (the examples must run last; was the order changed after collection?)",
                pytrace=False,
            )
        if time.monotonic() - began > EXAMPLES_WAIT_S:
            pytest.fail(
                f"{len(missing)} scenarios of this run had no record after {EXAMPLES_WAIT_S:g} s of waiting for the"
                f" other xdist workers: {listed(missing, 3)}",
                pytrace=False,
            )
        time.sleep(0.05)


def _collect_examples(request: pytest.FixtureRequest) -> RunExamples:
    recorder = _recorder(request.config)
    if recorder is None:
        pytest.fail("the sign-off recorder is not registered: the examples have nothing to read", pytrace=False)
    others = [item for item in request.session.items if not is_examples_item(item) and scenario_template(item)]
    expected = [item.nodeid for item in others]
    services = service_packages()
    selected: dict[str, int] = {}
    for item in others:
        for mark in item.iter_markers():
            if mark.name in services:
                selected[mark.name] = selected.get(mark.name, 0) + 1
    began = time.monotonic()
    records = _wait_for_records(recorder, expected)
    fixtures = {name: _service_of_fixture(module) for name, module in plugin_fixture_modules(request.session).items()}
    return RunExamples([records[n] for n in expected], selected, fixtures, time.monotonic() - began)


_EXAMPLES = pytest.StashKey[RunExamples]()


@given("every other scenario selected in this run has finished", target_fixture="examples")
def examples_of_this_run(request: pytest.FixtureRequest) -> RunExamples:
    cached = request.config.stash.get(_EXAMPLES, None)
    if cached is not None:
        return cached
    examples = request.config.stash[_EXAMPLES] = _collect_examples(request)
    report_figure(request, f"examples: {examples.summary()}, read after waiting {examples.waited:.2f} s")
    rows = [(r["outcome"], r["feature"], r["scenario"], " ".join(r.get("fixtures") or [])) for r in examples.records]
    attach_csv(request, "the run's scenarios and the fixtures they used", ("outcome", "feature", "scenario", "fixtures"), rows)
    return examples


@then(parsers.parse('the fixture "{fixture}" is used by at least one passing example'))
def fixture_used(request, examples: RunExamples, fixture: str):
    assert fixture in examples.fixtures, f"the plugin registers no fixture named {fixture!r}"
    used = examples.passing_fixtures()
    if fixture not in used:
        why = examples.unproven(examples.fixtures[fixture])
        if why is not None:
            pytest.skip(f"not verified: {fixture} - {why}")
    assert fixture in used, f"no passing scenario uses {fixture!r} ({examples.summary()})"
    attach(request, f"examples using {fixture}", "\n".join(sorted(used[fixture])))


@then("every fixture the plugin registers is used by at least one passing example")
def every_fixture_used(request, examples: RunExamples):
    used = examples.passing_fixtures()
    registered = sorted(examples.fixtures)
    assert registered, "the plugin registers no fixture"
    attach(request, "fixtures and their passing examples", "\n".join(f"{n}: {len(used.get(n, []))}" for n in registered))
    unused = [name for name in registered if name not in used]
    not_verified = {name: why for name in unused if (why := examples.unproven(examples.fixtures[name]))}
    failing = [name for name in unused if name not in not_verified]
    assert not failing, f"no passing scenario uses: {listed(failing, 12)}"
    if not_verified:
        pytest.skip(f"not verified: {listed([f'{n} ({w})' for n, w in not_verified.items()], 6)}")


@then("every service has passing examples")
def every_service_has_examples(examples: RunExamples):
    passing = {m for s in examples.records if s["outcome"] == "passed" for m in s.get("markers") or []}
    missing = [name for name in service_packages() if name not in passing]
    not_verified = {name: why for name in missing if (why := examples.unproven(name))}
    failing = [name for name in missing if name not in not_verified]
    assert not failing, f"no passing example for: {', '.join(failing)}"
    if not_verified:
        pytest.skip("not verified: " + "; ".join(not_verified.values()))


@then("no example failed")
def no_example_failed(examples: RunExamples):
    failed = [f"{s['feature']}: {s['scenario']} ({s['reason']})" for s in examples.records if s["outcome"] in ("failed", "error")]
    assert not failed, "failed examples: " + listed(failed)
