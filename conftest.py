"""The acceptance spec's step definitions, one module per service (the fixtures come from the plugin)."""

import pytest

pytest_plugins = ["steps.common", "steps.mongodb", "steps.redis", "steps.s3", "steps.openai"]
pytest_plugins += ["reports.signoff.plugin", "steps.allure_labels", "steps.acceptance", "steps.documentation"]  # reports, sign-off


def pytest_configure(config):
    config.addinivalue_line("markers", "label(key, value): a Gherkin 'key:value' tag, reported as an Allure label")


def pytest_bdd_apply_tag(tag, function):
    """Gherkin tags of the form ``key:value`` (``task:3.2``, ``severity:critical``) become ``label`` marks."""
    if ":" not in tag:
        return None
    key, value = tag.split(":", 1)
    pytest.mark.label(key, value)(function)
    return True
