"""Binds features/mongodb.feature to pytest."""

from pytest_bdd import scenarios

scenarios("mongodb.feature")
