"""Binds features/compose.feature to pytest."""

from pytest_bdd import scenarios

scenarios("compose.feature")
