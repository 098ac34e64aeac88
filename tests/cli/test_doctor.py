"""``narrative-services doctor``: what embedded mode needs, installed or missing with the command that gets it."""

from __future__ import annotations

import os
import subprocess

from .conftest import command


def doctor(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command(), "doctor"], env={**os.environ, "PATH": path}, capture_output=True, text=True,
                          timeout=120)


def test_doctor_names_what_is_missing_and_the_command_to_get_it(tmp_path):
    done = doctor(str(tmp_path))  # a PATH with no redis-server, no go, no package manager

    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "redis-server" in line)
    assert line.startswith("missing  redis-server (redis embedded mode") and "apt-get install -y redis-server" in line


def test_doctor_says_ok_for_what_this_machine_has():
    done = doctor(os.environ["PATH"])

    assert "ok       redis-server (redis embedded mode)" in done.stdout
    assert "ok       s3 client libraries (boto3, moto)" in done.stdout and "binary cache:" in done.stdout


def test_doctor_build_without_go_says_what_to_install_in_one_line(tmp_path):
    done = subprocess.run([*command(), "doctor", "--build"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": str(tmp_path), "NARRATIVE_CACHE_DIR": str(tmp_path / "cache")})

    assert done.returncode == 1
    failed = next(line for line in done.stdout.splitlines() if line.startswith("FerretDB build failed"))
    assert "Go" in failed and "Traceback" not in done.stdout + done.stderr
