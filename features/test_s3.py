"""Binds features/s3.feature to pytest."""

from pytest_bdd import scenarios

# its steps, registered when this module is collected (a run of other features never imports them)
pytest_plugins = ["steps.s3"]

scenarios("s3.feature")
