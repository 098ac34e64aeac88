"""Steps of "Integration test examples for each fixture type": the examples are this run's own scenarios.

The criterion's scenarios run last (the collection hook below) and read the sign-off recorder's records of every
other selected scenario: its outcome and the fixtures it really used. Under pytest-xdist each worker appends its
finished records to a directory the controller shares with all of them, and the examples wait (bounded) until
every other selected scenario has a record.
"""

from __future__ import annotations

import time

import pytest
from pytest_bdd import given, parsers, then

from narrative_fixtures.core.catalog import service_packages
from narrative_fixtures.signoff import examples_judge as judge
from narrative_fixtures.signoff.allure_labels import attach
from narrative_fixtures.signoff.collect import labels_of, plugin_fixture_modules, scenario_template
from narrative_fixtures.signoff.examples_judge import RunExamples, service_of_fixture
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
    fixtures = {name: service_of_fixture(module) for name, module in plugin_fixture_modules(request.session).items()}
    return RunExamples([records[n] for n in expected], selected, fixtures, time.monotonic() - began)


_EXAMPLES = pytest.StashKey[RunExamples]()


@given(judge.FINISHED, target_fixture="examples")
def examples_of_this_run(request: pytest.FixtureRequest) -> RunExamples:
    cached = request.config.stash.get(_EXAMPLES, None)
    if cached is not None:
        return cached
    examples = request.config.stash[_EXAMPLES] = _collect_examples(request)
    report_figure(request, f"examples: {examples.summary()}, read after waiting {examples.waited:.2f} s")
    rows = [(r["outcome"], r["feature"], r["scenario"], " ".join(r.get("fixtures") or [])) for r in examples.records]
    attach_csv(request, "the run's scenarios and the fixtures they used", ("outcome", "feature", "scenario", "fixtures"), rows)
    return examples


def _apply(request: pytest.FixtureRequest, judgement: judge.Judgement) -> None:
    """A judgement as the step's outcome: its attachment, then a skip (NOT verified) or a failure."""
    if judgement.attachment is not None:
        attach(request, *judgement.attachment)
    if judgement.outcome == judge.SKIPPED:
        pytest.skip(judgement.message)
    assert judgement.outcome == judge.PASSED, judgement.message


@then(parsers.parse(judge.FIXTURE_USED))
def fixture_used(request, examples: RunExamples, fixture: str):
    _apply(request, judge.fixture_used(examples, fixture))


@then(judge.EVERY_FIXTURE_USED)
def every_fixture_used(request, examples: RunExamples):
    _apply(request, judge.every_fixture_used(examples))


@then(judge.EVERY_SERVICE)
def every_service_has_examples(request, examples: RunExamples):
    _apply(request, judge.every_service_has_examples(examples))


@then(judge.NO_EXAMPLE_FAILED)
def no_example_failed(request, examples: RunExamples):
    _apply(request, judge.no_example_failed(examples))
