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

