"""Nested in-process runs (pytester) share the outer run's client libraries: imported at collection, not in a test.

pytester drops every module first imported during a test. Two nested runs that each imported boto3 used to leave
the plugin's cached boto3 session on the first copy: its client raised the first copy's ClientError, which the
janitor's ``except ClientError`` (the second copy) did not catch. Reproduced by selecting two such tests alone.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PAIR = "tests/services/s3/test_s3_fidelity.py"


def test_two_nested_runs_importing_boto3_in_one_process_both_pass_when_selected_alone(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", PAIR, "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--require-services",
         "-k", "warn_by_default or off_gives"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "NARRATIVE_REPORTS_DIR": str(tmp_path)},
    )
    assert "2 passed" in done.stdout, done.stdout[-3000:]
