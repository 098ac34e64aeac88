"""The acceptance steps' nested runs (``steps.nested``) give the outer run's environment back as it was."""

from __future__ import annotations

import os

import pytest

from steps.nested import environment


def test_a_nested_runs_environment_is_given_back_as_it_was(monkeypatch):
    """``steps.nested.environment``: set and unset for the block, every variable as it was afterwards."""
    monkeypatch.setenv("STEPS_NESTED_KEPT", "before")
    monkeypatch.delenv("STEPS_NESTED_NEW", raising=False)
    with pytest.raises(RuntimeError), environment(STEPS_NESTED_KEPT=None, STEPS_NESTED_NEW="during"):
        assert "STEPS_NESTED_KEPT" not in os.environ and os.environ["STEPS_NESTED_NEW"] == "during"
        raise RuntimeError("the nested run failed")
    assert os.environ["STEPS_NESTED_KEPT"] == "before" and "STEPS_NESTED_NEW" not in os.environ
