"""The plugin as another project gets it: the built wheel installed into a fresh virtualenv, no conftest at all.

Installed with only the ``[redis]`` extra, as a project that needs only Redis would: no Beanie, PyMongo, boto3, moto
or openai SDK comes with it; a Redis test runs, and a MongoDB test fails with one line naming the extra to install.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

REDIS_PROJECT_TEST = '''
import json
import pytest


@pytest.mark.asyncio
async def test_a_queued_job(redis_client, test_redis_job):
    assert json.loads(await redis_client.lindex("job_queue", 0)) == test_redis_job


def test_the_fixtures_come_from_the_installed_plugin(request):
    import narrative_fixtures
    assert "site-packages" in narrative_fixtures.__file__
    assert request.config.pluginmanager.hasplugin("narrative_fixtures")
'''

MONGODB_PROJECT_TEST = '''
import pytest


@pytest.mark.asyncio
async def test_a_user(test_user_data):
    pass
'''

NOT_INSTALLED = ("beanie", "pymongo", "boto3", "moto", "openai")  # what the [redis] extra must not bring


@pytest.fixture(scope="module")
def redis_only(tmp_path_factory) -> Path:
    """The python of a fresh virtualenv holding the wheel installed as ``narrative-acceptance[redis]``."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv builds and installs the wheel")
    tmp_path = tmp_path_factory.mktemp("wheel")
    subprocess.run([uv, "build", "--wheel", "-o", str(tmp_path / "dist"), "-q"], cwd=ROOT, check=True)
    (wheel,) = (tmp_path / "dist").glob("narrative_acceptance-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    requirement = f"narrative-acceptance[redis] @ {wheel.as_uri()}"
    subprocess.run([uv, "pip", "install", "-q", "--python", str(python), requirement], check=True)
    return python


def run_project(python: Path, tmp_path: Path, test: str, *args: str) -> subprocess.CompletedProcess:
    project = tmp_path / "backend"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    (project / "test_project.py").write_text(test)
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)},
    )  # fmt: skip


@pytest.mark.timeout(600)
def test_the_redis_extra_installs_redis_and_none_of_the_other_services_sdks(redis_only):
    probe = "import importlib.util as u; print(*[n for n in %r if u.find_spec(n)])" % (NOT_INSTALLED + ("redis",),)
    found = subprocess.run([str(redis_only), "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert found == ["redis"]


@pytest.mark.timeout(600)
def test_the_wheel_gives_another_project_the_redis_fixtures_through_its_entry_point(redis_only, tmp_path):
    result = run_project(redis_only, tmp_path, REDIS_PROJECT_TEST, "--require-services")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    # without pytest's cache (-p no:cacheprovider) the logs go to a temp folder of the run, never the project's tree
    [logs] = [line.split(": ", 1)[1].strip() for line in result.stdout.splitlines() if line.startswith("service logs: ")]
    assert (Path(logs) / "redis.log").is_file() and not Path(logs).is_relative_to(tmp_path / "backend"), logs
    assert not (tmp_path / "backend" / "reports").exists()


@pytest.mark.timeout(600)
def test_a_service_whose_extra_is_missing_fails_with_one_line_naming_it(redis_only, tmp_path):
    result = run_project(redis_only, tmp_path, MONGODB_PROJECT_TEST, "-rA")
    output = result.stdout
    assert result.returncode == 1 and "1 error" in output, output[-3000:] + result.stderr[-2000:]
    line = "mongodb: pymongo, beanie not installed; install narrative-acceptance[mongodb] to run its tests"
    assert line in output.splitlines(), output[-3000:]  # the error of its setup: that one line, nothing else
    assert "ERROR test_project.py::test_a_user - Failed: mongodb: pymongo, beanie not ins" in output
    assert "Traceback" not in output and "ModuleNotFoundError" not in output, output[-3000:]


def test_loading_the_plugin_imports_no_service_sdk():
    """Each service's client library is imported at its first use, never when pytest loads the plugin (so a missing
    extra costs nothing until its service is used, and a run without MongoDB never pays for Beanie)."""
    from narrative_fixtures.core.catalog import service_specs

    sdks = sorted({module for spec in service_specs().values() for module in (*spec.sdk_modules, *spec.requires)})
    plugins = ["narrative_fixtures.plugin", *(spec.fixtures for spec in service_specs().values())]
    probe = (
        f"import importlib, sys; [importlib.import_module(m) for m in {plugins!r}];"
        f" print(*[m for m in {sdks!r} if m in sys.modules])"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert imported == [], f"loading the plugin imported {imported}"


def test_a_missing_requirement_is_one_line_naming_the_extra():
    from narrative_fixtures.core.spec import ServiceSpec

    spec = ServiceSpec("kv", "kv server", "TEST_KV_URL", (), extra="kv", requires=("json", "no_such_module_here"))
    assert spec.missing_requirements() == ["no_such_module_here"]
    assert spec.requirements_problem() == (
        "kv: no_such_module_here not installed; install narrative-acceptance[kv] to run its tests"
    )
    assert ServiceSpec("kv", "kv server", "TEST_KV_URL", (), requires=("json",)).requirements_problem() is None
