"""Binds features/mongodb.feature to pytest."""

from pytest_bdd import scenarios

# its steps, registered when this module is collected (a run of other features never imports them)
pytest_plugins = ["steps.mongodb"]

scenarios("mongodb.feature")
