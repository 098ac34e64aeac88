"""The acceptance spec's shared steps and reports (the fixtures come from the plugin).

Each feature's own steps are registered by its test module (``features/test_<x>.py``'s ``pytest_plugins``), so a
run of one feature imports only the libraries its steps need (a Redis scenario never imports botocore or pydantic);
the OpenAI feature's steps are split by job in ``steps.openai*`` (shared pieces in ``steps.openai_support``), the
nested-run helpers live in ``steps.nested``; the sign-off recorder and the Allure labels come from the reporting
package ``narrative_fixtures.signoff``.
"""

import pytest

from steps import installed_distributions

pytest_plugins = ["steps.common", "steps.xdist_schedule"]  # xdist_schedule: each service feature on one worker
pytest_plugins += ["narrative_fixtures.signoff.plugin", "narrative_fixtures.signoff.allure_labels"]  # reports


def pytest_configure(config):
    config.addinivalue_line("markers", "label(key, value): a Gherkin 'key:value' tag, reported as an Allure label")


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """Collection reads the installed distributions once: pytest 9 scans every distribution's entry points again
    for each ``pytest_plugins`` name a test module lists (a dozen scans of ~146 packages while this suite collects,
    in every process, each xdist worker's included). Nothing is installed while the suite collects."""
    with installed_distributions.remembered():
        return (yield)


def pytest_bdd_apply_tag(tag, function):
    """Gherkin tags of the form ``key:value`` (``task:3.2``, ``severity:critical``) become ``label`` marks."""
    if ":" not in tag:
        return None
    key, value = tag.split(":", 1)
    pytest.mark.label(key, value)(function)
    return True
