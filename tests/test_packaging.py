"""The plugin as another project gets it: the built wheel installed into a fresh virtualenv, no conftest at all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PLAIN_PROJECT_TEST = '''
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


@pytest.mark.timeout(600)
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv builds and installs the wheel")
def test_the_wheel_gives_another_project_the_fixtures_through_its_entry_point(tmp_path):
    uv = shutil.which("uv")
    subprocess.run([uv, "build", "--wheel", "-o", str(tmp_path / "dist"), "-q"], cwd=ROOT, check=True)
    (wheel,) = (tmp_path / "dist").glob("narrative_acceptance-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "-q", "--python", str(python), str(wheel)], check=True)
    project = tmp_path / "backend"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    (project / "test_jobs.py").write_text(PLAIN_PROJECT_TEST)
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "--require-services", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    logs = list((project / "reports" / "services").rglob("redis.log"))
    assert logs, "the embedded redis-server logged beside the project (reports/services/run-<id>/redis.log)"
