"""The plugin's Python server processes (the embedded S3 server, the OpenAI fake as a process of its own) import
their libraries, never pytest or the plugin: a start costs what the server needs.

A service's ``spec`` is imported with its package (``python -m narrative_fixtures.services.s3.server`` runs the
package's ``__init__`` first), so nothing a spec imports may pull pytest in (it cost the S3 server ~0.1 s a start).
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from narrative_fixtures.services.s3.server import make_server
server = make_server("127.0.0.1", 0)
server.server_close()
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("pytest", "_pytest", "pluggy")
                        or name.startswith(("narrative_fixtures.plugin", "narrative_fixtures.services.s3.fixtures")))))
"""


def test_the_s3_server_process_imports_neither_pytest_nor_the_plugin():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_openai_fake_process_imports_neither_pytest_nor_the_plugin():
    probe = (
        "import json, runpy, sys\nsys.argv = ['fake', '--help']\ntry:\n"
        "    runpy.run_module('narrative_fixtures.services.openai.fake', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in ('pytest', '_pytest')"
        " or n.startswith('narrative_fixtures.plugin'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_service_spec_imports_no_pytest():
    probe = (
        "import json, sys\nfrom narrative_fixtures.core.catalog import service_specs\nservice_specs()\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in ('pytest', '_pytest'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
