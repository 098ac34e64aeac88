"""The Story 9.3 acceptance sign-off: one verdict per checklist item, from a run's scenarios (see ``model``)."""

from .model import FAILED, NOT_VERIFIED, VERIFIED, build, verdict

__all__ = ["FAILED", "NOT_VERIFIED", "VERIFIED", "build", "verdict"]
