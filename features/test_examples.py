"""Binds features/examples.feature to pytest."""

from pytest_bdd import scenarios

scenarios("examples.feature")
