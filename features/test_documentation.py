"""Binds features/documentation.feature to pytest."""

from pytest_bdd import scenarios

scenarios("documentation.feature")
