"""Under pytest-xdist each service feature of the acceptance suite runs on one worker (the plan: steps.xdist_plan).

The controller's scheduler hands each worker, one scenario at a time, the scenarios of its own features first,
then the others (compose, documentation, graceful skip) to whichever worker asks, then another worker's scenarios
when that worker is behind, and the examples last: they judge every other scenario. Each worker prestarts only the
servers its own features and the unowned scenarios need. Node-level work units, not ``--dist loadgroup`` with
``xdist_group`` marks: pytest 9.2's structured node ids broke those (pytest-xdist#1386: the marks are silently
ignored). Only the default ``load`` is replaced; any other ``--dist`` is the user's.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from steps.xdist_plan import LAST_FILES, PINNED_FILES, file_of, plan, read_seconds, remember_seconds, worker_ids

SECONDS_KEY = pytest.StashKey[dict]()  # the figures the plan uses (the controller's, or what it gave a worker)
WORKER_INPUT = "narrative_feature_seconds"
DIST_INPUT = "narrative_dist"
LAST = object()  # the owner the scheduler gives the examples: handed out when nothing else is left


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[SECONDS_KEY] = workerinput.get(WORKER_INPUT, {})
    else:
        config.stash[SECONDS_KEY] = read_seconds(getattr(config, "cache", None))
        config.pluginmanager.register(FeatureTimer(config), "narrative-feature-timer")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    node.workerinput[WORKER_INPUT] = node.config.stash[SECONDS_KEY]
    node.workerinput[DIST_INPUT] = node.config.getvalue("dist")  # a worker's own option says "no"


def _planned(config: pytest.Config) -> bool:
    """Whether the run's scheduling is the plan's: xdist's default ``load``, which the controller replaces."""
    workerinput = getattr(config, "workerinput", None)
    return (config.getvalue("dist") if workerinput is None else workerinput.get(DIST_INPUT)) == "load"


@pytest.hookimpl(optionalhook=True)
def pytest_narrative_prestart_items(session: pytest.Session, items: list[pytest.Item]):
    """A worker prestarts for the scenarios it may run: its own features' and those no worker owns, but not the
    examples (they run last, when every server is up). Another worker's servers start at first use here, if ever."""
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is None or not _planned(session.config):
        return None
    owners = plan([item.nodeid for item in items], session.config.stash[SECONDS_KEY],
                  worker_ids(workerinput["workercount"]))
    mine = workerinput["workerid"]
    return [item for item in items
            if file_of(item.nodeid) not in LAST_FILES and owners.get(file_of(item.nodeid), mine) == mine]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if not _planned(config):
        return None
    from xdist.scheduler import LoadScopeScheduling

    seconds = config.stash[SECONDS_KEY]

    class ServiceAffinityScheduling(LoadScopeScheduling):
        owner_of: dict[str, str | None] | None = None  # nodeid -> its worker, None (anyone's) or LAST

        def _split_scope(self, nodeid: str) -> str:
            return nodeid

        def _next_unit(self, node) -> str | None:
            """Its own features' scenarios, else the unowned, else - once down to the one scenario xdist's worker
            holds back - another worker's own (a worker that died leaves its own to the others), else the examples;
            else nothing yet. One walk of the queue, ending at the first of the worker's own."""
            if self.owner_of is None:
                owners = plan(self.collection, seconds, worker_ids(self.numnodes))
                self.owner_of = {nodeid: LAST if file_of(nodeid) in LAST_FILES else owners.get(file_of(nodeid))
                                 for nodeid in self.collection}
            me, free, other, last = node.gateway.id, None, None, None
            for nodeid in self.workqueue:
                owner = self.owner_of[nodeid]
                if owner == me:
                    return nodeid
                if owner is None:
                    free = free or nodeid
                elif owner is LAST:
                    last = last or nodeid
                else:
                    other = other or nodeid
            if free is not None:
                return free
            if self._pending_of(self.assigned_work.get(node, {})) <= 1:
                return other or last
            return None

        def _assign_work_unit(self, node) -> None:
            chosen = self._next_unit(node)
            if chosen is not None:
                self.workqueue.move_to_end(chosen, last=False)
                super()._assign_work_unit(node)

    return ServiceAffinityScheduling(config, log)


class FeatureTimer:
    """In the controller (or a run without xdist): how long each service feature's scenarios took, remembered in
    pytest's cache at the end for the next run's plan."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.measured: dict[str, dict[str, float]] = defaultdict(dict)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        file = file_of(report.nodeid)
        if file in PINNED_FILES:
            self.measured[file][report.nodeid] = self.measured[file].get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        remember_seconds(getattr(self.config, "cache", None), self.measured)
