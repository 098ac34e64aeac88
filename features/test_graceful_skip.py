"""Binds features/graceful_skip.feature to pytest."""

from pytest_bdd import scenarios

scenarios("graceful_skip.feature")
