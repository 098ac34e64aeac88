"""Binds features/s3.feature to pytest."""

from pytest_bdd import scenarios

scenarios("s3.feature")
