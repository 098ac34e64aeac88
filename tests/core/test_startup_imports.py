"""Start-up cost: the plugin imports only what the selected tests need. A run whose one test uses Redis imports no
S3, MongoDB, OpenAI, Allure or pytest-bdd library (each checked in a fresh process's ``sys.modules``)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("boto3", "botocore", "moto", "beanie", "pymongo", "motor", "openai", "allure", "allure_commons", "pytest_bdd")
# Plugins of other packages that import those libraries themselves (installed here, not ours to judge)
OTHERS_PLUGINS = ("pytest_redis", "pytest_mongo", "allure_pytest_bdd", "pytest-bdd")

RECORD_MODULES = """
import json, os, sys

def pytest_sessionfinish(session):
    with open(os.environ["MODULES_TO"], "w") as out:
        json.dump(sorted(name.split(".")[0] for name in sys.modules), out)
"""


def test_importing_the_plugin_imports_no_service_library():
    probe = f"import sys, narrative_fixtures.plugin; print([n for n in {HEAVY!r} if n in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_redis_only_run_imports_no_other_services_library(project, tmp_path):
    project.makeconftest(RECORD_MODULES)
    project.makepyfile(test_redis_only="def test_uses(redis_service):\n    assert redis_service.url\n")
    modules = tmp_path / "modules.json"
    project._monkeypatch.setenv("MODULES_TO", str(modules))
    disabled = [arg for plugin in OTHERS_PLUGINS for arg in ("-p", f"no:{plugin}")]
    result = project.runpytest_subprocess("-p", "no:randomly", *disabled)
    result.assert_outcomes(passed=1)
    imported = set(json.loads(modules.read_text()))
    assert "redis" in imported  # the probe works: the one service the test uses was imported
    assert sorted(imported.intersection(HEAVY)) == []


# --- -n 2: the tests that took longest last time are handed out first --------------------------------------------

THREE_TESTS = """
import os

def _ran(name):
    with open(os.environ["ORDER_TO"], "a") as out:
        out.write(name + "\\n")

def test_a():
    _ran("a")

def test_b():
    _ran("b")

def test_c():
    _ran("c")
"""


def test_longest_first_moves_only_the_long_tests_and_keeps_the_rest_in_order():
    from types import SimpleNamespace

    from narrative_fixtures.core.ordering import longest_first

    items = [SimpleNamespace(nodeid=name) for name in "abcde"]
    durations = {"a": 0.1, "b": 2.0, "d": 5.0, "e": 0.6}
    assert [item.nodeid for item in longest_first(items, durations)] == ["d", "b", "e", "a", "c"]


def test_a_serial_run_records_durations_and_a_parallel_run_starts_with_the_longest(project, tmp_path):
    import json

    project.makepyfile(test_three=THREE_TESTS)
    order = tmp_path / "order.txt"
    project._monkeypatch.setenv("ORDER_TO", str(order))
    project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)
    cached = project.path / ".pytest_cache/v/narrative-services/durations"
    recorded = json.loads(cached.read_text())
    assert set(recorded) == {f"test_three.py::test_{name}" for name in "abc"}
    assert order.read_text().split() == ["a", "b", "c"]
    recorded.update({"test_three.py::test_c": 3.0, "test_three.py::test_b": 1.0})  # as if c and b were long
    cached.write_text(json.dumps(recorded))
    order.unlink()
    project.runpytest_subprocess("-p", "no:randomly", "-n", "1").assert_outcomes(passed=3)
    assert order.read_text().split() == ["c", "b", "a"]
    order.unlink()
    project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)
    assert order.read_text().split() == ["a", "b", "c"], "a serial run keeps the collected order"
