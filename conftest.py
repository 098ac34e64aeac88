"""The acceptance spec's step definitions and reports (the fixtures come from the plugin).

One steps module per feature (the service ones and the cross-cutting criteria; the OpenAI feature's split by job in
``steps.openai*``, their shared pieces in ``steps.openai_support``), the nested-run helpers in ``steps.nested``; the sign-off recorder and the Allure labels from the reporting package ``narrative_fixtures.signoff``.
"""

import pytest

pytest_plugins = ["steps.common", "steps.mongodb", "steps.redis", "steps.s3", "steps.openai"]
pytest_plugins += ["steps.openai_chat", "steps.openai_tools_streaming", "steps.openai_errors", "steps.openai_mock"]
pytest_plugins += ["steps.openai_responses", "steps.openai_embeddings"]
pytest_plugins += ["steps.examples", "steps.graceful_skip", "steps.compose", "steps.documentation"]
pytest_plugins += ["narrative_fixtures.signoff.plugin", "narrative_fixtures.signoff.allure_labels"]  # reports


def pytest_configure(config):
    config.addinivalue_line("markers", "label(key, value): a Gherkin 'key:value' tag, reported as an Allure label")


def pytest_bdd_apply_tag(tag, function):
    """Gherkin tags of the form ``key:value`` (``task:3.2``, ``severity:critical``) become ``label`` marks."""
    if ":" not in tag:
        return None
    key, value = tag.split(":", 1)
    pytest.mark.label(key, value)(function)
    return True
