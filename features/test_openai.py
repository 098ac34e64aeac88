"""Binds features/openai.feature to pytest."""

from pytest_bdd import scenarios

scenarios("openai.feature")
