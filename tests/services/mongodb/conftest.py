"""Fixtures the MongoDB self-tests share."""

from __future__ import annotations

import pytest

from tests.mongodb_support import own_ferretdb


@pytest.fixture(scope="module")
def ferretdb():
    """A FerretDB of the test module's own (started by the plugin's embedded provider), which nested runs reach as
    an 'external' server; stopped after the module."""
    with own_ferretdb() as endpoint:
        yield endpoint
