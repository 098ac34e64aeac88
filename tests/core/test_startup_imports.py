"""Start-up cost: the plugin imports only what the selected tests need. A run whose one test uses Redis imports no
S3, MongoDB, OpenAI, Allure or pytest-bdd library (each checked in a fresh process's ``sys.modules``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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



# What a one-scenario Redis run of the acceptance spec must not import: the other features' step libraries (each
# feature's steps are registered by its own test module) and Coverage when nothing measures the run.
NOT_FOR_A_REDIS_SCENARIO = ("botocore", "boto3", "httpx", "pydantic", "openai", "beanie", "pymongo", "moto", "coverage")
RECORD_AT_EXIT = """
import json, os, sys

def pytest_unconfigure(config):  # after the sign-off was written (its sessionfinish runs last)
    with open(os.environ["MODULES_TO"], "w") as out:
        json.dump(sorted(name.split(".")[0] for name in sys.modules), out)
"""


def _modules_of_one_scenario(tmp_path, feature: str, name: str) -> tuple[set[str], set[str]]:
    """The top-level modules a run of one scenario of the spec imported, and those of ``NOT_FOR_A_REDIS_SCENARIO``
    it may import because this self-test is measured (Coverage)."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "record_modules.py").write_text(RECORD_AT_EXIT)
    modules = tmp_path / "modules.json"
    # under coverage (CI: `coverage run` with patch=subprocess) the scenario's process is measured too
    measuring = "coverage" in sys.modules and sys.modules["coverage"].Coverage.current() is not None
    measured = measuring or any(os.environ.get(name) for name in ("COVERAGE_PROCESS_START", "COV_CORE_SOURCE"))
    env = {**os.environ, "MODULES_TO": str(modules), "NARRATIVE_REPORTS_DIR": str(tmp_path / "reports"),
           "TEST_SERVICES_LOG_DIR": str(tmp_path / "logs"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    env.pop("NARRATIVE_SIGNOFF_RUN", None)  # this self-test's own run set it: the scenario's run writes its sign-off
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "record_modules"]
    argv += [feature, "-k", name]
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout, done.stdout[-3000:]
    assert (tmp_path / "reports" / "signoff.partial.html").is_file()  # the sign-off was rendered in this run
    return set(json.loads(modules.read_text())), {"coverage"} if measured else set()


def test_one_redis_scenario_of_the_spec_imports_no_other_features_libraries(tmp_path):
    imported, measured = _modules_of_one_scenario(tmp_path, "features/test_redis.py", "time_to_live")
    assert {"redis", "pytest_bdd", "jinja2"} <= imported  # the probe works: what the scenario needs was imported
    assert sorted(imported & (set(NOT_FOR_A_REDIS_SCENARIO) - measured)) == []


def test_an_s3_scenario_that_fetches_nothing_over_http_imports_no_http_client(tmp_path):
    """httpx (with rich and click) is the presigned-link steps' own: every xdist worker imported it at collection."""
    imported, _ = _modules_of_one_scenario(tmp_path, "features/test_s3.py", "copied_to_a_new_name")
    assert {"boto3", "botocore"} <= imported  # the probe works
    assert sorted(imported & {"httpx", "httpcore", "rich", "openai"}) == []
