"""pytest plugin: what a test report shows (its failure, the output it captured) has the run's secrets masked.

A failing assertion prints whatever the test compared: ``assert redis_service.url == ...`` would show the URL with
its ``?password=``. Every report is masked where pytest makes it (``pytest_runtest_makereport``, and on xdist in
the worker, before it travels), so the terminal, the sign-off's reasons and the Allure results all get the masked
text. The masking itself is ``narrative_fixtures.core.masking.mask``; this module only walks pytest's report
objects (dataclasses of strings, lists and tuples) and keeps their layout.
"""

from __future__ import annotations

import dataclasses

import pytest

from narrative_fixtures.core.masking import mask
from reports.signoff import collect


def masked(value, secrets: list[str]):
    """``value`` with every string inside it masked: strings, lists, tuples and pytest's repr dataclasses (in place)."""
    if isinstance(value, str):
        return mask(value, secrets)
    if isinstance(value, list):
        value[:] = [masked(item, secrets) for item in value]
        return value
    if isinstance(value, tuple):
        return type(value)(masked(item, secrets) for item in value) if not hasattr(value, "_fields") else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            setattr(value, field.name, masked(getattr(value, field.name), secrets))
    return value


def mask_report(report: pytest.TestReport | pytest.CollectReport, secrets: list[str]) -> None:
    """Mask a report's failure (``longrepr``) and its captured sections (stdout, stderr, log) in place."""
    if report.longrepr is not None:
        report.longrepr = masked(report.longrepr, secrets)
    report.sections = [(title, mask(content, secrets)) for title, content in report.sections]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    mask_report(report, collect.known_secrets(item.config))
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    mask_report(report, collect.known_secrets(collector.config))
    return report
