"""Which xdist worker runs which service feature: a plan both the controller and every worker compute alike.

Importing a service's client library costs a worker 0.1-1.3 CPU-s (the OpenAI SDK builds hundreds of pydantic
models; botocore loads S3's model). With xdist's ``load`` scheduling every worker ran some scenarios of every
feature, so each paid every import, and each prestarted every server (which preloads its library). The plan gives
each service feature to one worker, balanced by how long its scenarios took in earlier runs (pytest's cache,
``narrative/feature-seconds``; 0.1 s a scenario when there is no figure). The controller's scheduler hands out work
by the plan; each worker prestarts only the services of its own features. The plan is a pure function of the
collection, the figures (the controller passes its copy to the workers) and the worker ids, so both sides agree.
"""

from __future__ import annotations

from collections import Counter

# one worker each: their scenarios share a client library whose import is the costly part
PINNED_FILES = ("features/test_s3.py", "features/test_openai.py", "features/test_mongodb.py", "features/test_redis.py")
LAST_FILES = ("features/test_examples.py",)  # they judge the other scenarios: handed out when nothing else is left
SECONDS_CACHE_KEY = "narrative/feature-seconds"  # {file: [seconds, scenarios]} of the runs that ran them
UNKNOWN_SCENARIO_S = 0.1


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def worker_ids(count: int) -> list[str]:
    """The ids pytest-xdist gives ``count`` workers, in order."""
    return [f"gw{index}" for index in range(count)]


def plan(nodeids, seconds: dict, workers: list[str]) -> dict[str, str]:
    """Each pinned feature file of ``nodeids`` -> the worker that runs it: longest first, each to the worker with
    the least planned so far (ties: the first worker). ``seconds`` is the cache's figures (may be empty)."""
    scenarios = Counter(file for file in map(file_of, nodeids) if file in PINNED_FILES)
    rates = {file: total / count for file, (total, count) in seconds.items() if count}

    def weight(file: str) -> float:
        return scenarios[file] * rates.get(file, UNKNOWN_SCENARIO_S)

    planned = dict.fromkeys(workers, 0.0)
    owners = {}
    for file in sorted(scenarios, key=lambda file: (-weight(file), file)):
        worker = min(workers, key=lambda worker: (planned[worker], workers.index(worker)))
        owners[file] = worker
        planned[worker] += weight(file)
    return owners


def read_seconds(cache) -> dict:
    """The figures of earlier runs (``{}`` without pytest's cache, or when they do not have the expected shape)."""
    found = cache.get(SECONDS_CACHE_KEY, {}) if cache is not None else {}
    if not isinstance(found, dict):
        return {}
    return {
        file: value for file, value in found.items()
        if isinstance(value, list) and len(value) == 2 and all(isinstance(n, (int, float)) for n in value)
    }


def remember_seconds(cache, measured: dict[str, dict[str, float]]) -> None:
    """Store this run's figures (``{file: {nodeid: seconds}}``) over those of the files it did not run."""
    if cache is None or not measured:
        return
    figures = read_seconds(cache)
    for file, durations in measured.items():
        figures[file] = [round(sum(durations.values()), 3), len(durations)]
    cache.set(SECONDS_CACHE_KEY, figures)
