"""Binds features/redis.feature to pytest."""

from pytest_bdd import scenarios

scenarios("redis.feature")
