"""The plugin's Python server processes (the embedded S3 server, the OpenAI fake as a process of its own) import
their libraries, never pytest or the plugin: a start costs what the server needs.

A service's ``spec`` is imported with its package (``python -m narrative_fixtures.services.s3.server`` runs the
package's ``__init__`` first), so nothing a spec imports may pull pytest in (it cost the S3 server ~0.1 s a start).
"""

from __future__ import annotations

import json
import subprocess
import sys

REPORT = """
import json, re, sys
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("pytest", "_pytest", "pluggy")
                        or name.startswith("narrative_fixtures.plugin")
                        or re.fullmatch(r"narrative_fixtures\\.services\\.\\w+\\.fixtures", name))))
"""


def modules_loaded_by(code: str) -> list[str]:
    """The pytest, pluggy and plugin modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run([sys.executable, "-c", code + REPORT], capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_s3_server_process_imports_neither_pytest_nor_the_plugin():
    started = (
        "from narrative_fixtures.services.s3.server import make_server\n"
        "make_server('127.0.0.1', 0).server_close()\n"
    )
    assert modules_loaded_by(started) == []


def test_the_openai_fake_process_imports_neither_pytest_nor_the_plugin():
    started = (
        "import runpy, sys\nsys.argv = ['fake', '--help']\ntry:\n"
        "    runpy.run_module('narrative_fixtures.services.openai.fake', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
    )
    assert modules_loaded_by(started) == []


def test_a_service_spec_imports_no_pytest():
    assert modules_loaded_by("from narrative_fixtures.core.catalog import service_specs\nservice_specs()\n") == []
