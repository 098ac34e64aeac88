"""Under pytest-xdist the reports show what a serial run shows: every service a worker used, backend and version.

The real features run twice in a copy of the repository (its own reports/): in one process, then with ``-n 2``.
The sign-off's services table, ``run.json``, Allure's ``environment.properties`` and the terminal summary of the
xdist run must name the same services, modes, backends and versions; only addresses and worker ids may differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import repository_copy


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return repository_copy(tmp_path_factory.mktemp("repository"))


def run(tree, name: str, *args: str) -> dict:
    """Run the features; return the output, the sign-off's services rows, run.json and environment.properties."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "PYTEST_XDIST", "NARRATIVE_SIGNOFF_RUN", "NARRATIVE_REPORTS_DIR"))}
    reports, allure = tree / f"reports-{name}", tree / f"allure-{name}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--require-services", "--reports-dir", str(reports), "--alluredir", str(allure), *args],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    signoff = (reports / "signoff.md").read_text()
    table = signoff.split("## Services used", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("| ")]
    properties = dict(
        line.split("=", 1) for line in (allure / "environment.properties").read_text().splitlines() if "=" in line
    )
    return {
        "stdout": result.stdout,
        "rows": rows[1:],  # without the header
        "record": json.loads((reports / "run.json").read_text()),
        "properties": properties,
    }


@pytest.fixture(scope="module")
def serial(tree):
    return run(tree, "serial", "-p", "no:xdist")


@pytest.fixture(scope="module")
def parallel(tree):
    return run(tree, "xdist", "-n", "2")


def without_addresses(rows: list[list[str]]) -> set[tuple[str, ...]]:
    """Service, status, mode, backend, version of each row: the address (and the worker) left out."""
    return {tuple(row[:5]) for row in rows}


@pytest.mark.timeout(600)
def test_the_signoff_services_table_under_xdist_equals_the_serial_one_modulo_addresses(serial, parallel):
    expected = without_addresses(serial["rows"])
    assert {row[1] for row in serial["rows"]} == {"used"}, serial["rows"]
    assert without_addresses(parallel["rows"]) == expected
    assert all(row[5] for row in parallel["rows"]), parallel["rows"]  # every row has its (masked) address


@pytest.mark.timeout(600)
def test_run_json_names_every_service_each_worker_used_with_its_version(parallel):
    services = parallel["record"]["services"]
    assert {s["name"] for s in services} == {s["name"] for s in services if s["status"] == "used"}, services
    assert all(s["version"] and s["url"] and s["backend"] for s in services), services
    workers = {worker for s in services for worker in s["workers"]}
    assert workers <= {"gw0", "gw1"} and workers, services


@pytest.mark.timeout(600)
def test_allure_environment_under_xdist_shows_the_serial_backends_and_versions(serial, parallel):
    def identity(properties: dict[str, str]) -> dict[str, str]:
        return {
            key: value for key, value in properties.items()
            if key.startswith("service.") and key.rsplit(".", 1)[-1] in {"mode", "status", "backend", "version"}
        }  # fmt: skip

    assert identity(serial["properties"]) and identity(parallel["properties"]) == identity(serial["properties"])
    assert any(key.startswith("service.") and ".address" in key for key in parallel["properties"])


@pytest.mark.timeout(600)
def test_the_terminal_summary_under_xdist_lists_every_service_used(serial, parallel):
    for service in {row[0] for row in serial["rows"]}:
        lines = [line for line in parallel["stdout"].splitlines() if line.startswith(f"{service}: ")]
        assert lines and all(" at " in line for line in lines), parallel["stdout"][-3000:]
