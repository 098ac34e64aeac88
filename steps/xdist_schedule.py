"""Under pytest-xdist the acceptance suite gives the whole OpenAI feature to one worker.

Importing the OpenAI SDK costs ~0.5-1.3 CPU-s per process (it builds hundreds of pydantic models), more than all
the feature's scenarios together. With xdist's ``load`` scheduling each worker ran some of them, so each paid the
import. ``--dist loadgroup`` and an ``xdist_group`` mark would say the same, but pytest 9.2's structured node ids
broke it (pytest-xdist#1386: the marks are silently ignored), so the controller groups the feature's node ids
itself: one work unit for the feature file, every other scenario its own unit, largest first (``loadscope``'s
order), the examples still last. Only the default ``load`` is replaced; any other ``--dist`` is the user's.
"""

from __future__ import annotations

import pytest

GROUPED_FILES = ("features/test_openai.py",)  # run by one worker: their SDK is imported once


def work_unit(nodeid: str) -> str:
    """The work unit of a node id: its file when the file is one of :data:`GROUPED_FILES`, else the node itself."""
    path = nodeid.split("::", 1)[0]
    return path if path in GROUPED_FILES else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FeatureGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return FeatureGroupScheduling(config, log)
