"""Binds features/openai.feature to pytest."""

from pytest_bdd import scenarios

# its steps, registered when this module is collected (a run of other features never imports them)
pytest_plugins = [
    "steps.openai",
    "steps.openai_chat",
    "steps.openai_tools_streaming",
    "steps.openai_errors",
    "steps.openai_mock",
    "steps.openai_responses",
    "steps.openai_embeddings",
]

scenarios("openai.feature")
