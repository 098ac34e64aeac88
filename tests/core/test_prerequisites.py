"""core.prerequisites: what each embedded service needs from the system, and the install command in its words."""

from __future__ import annotations

import os
import stat

import pytest

from narrative_fixtures.core import prerequisites
from narrative_fixtures.core.catalog import service_specs
from narrative_fixtures.core.prerequisites import DOCTOR, Prerequisite, missing_prerequisites


def _path_with(tmp_path, *programs: str) -> str:
    """A PATH holding only stand-ins for ``programs`` (each an executable that exits 0)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for program in programs:
        script = folder / program
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(folder)


@pytest.fixture
def bare_system(tmp_path, monkeypatch):
    """No program on PATH but apt-get, and an empty binary cache (no FerretDB built)."""
    monkeypatch.setenv("PATH", _path_with(tmp_path, "apt-get"))
    monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_a_bare_system_lacks_go_the_ferretdb_build_and_redis_server(bare_system):
    missing = {item.what: item for item in missing_prerequisites(["mongodb", "redis"])}
    assert set(missing) == {"Go", "the FerretDB 1.24.2 build", "redis-server"}
    assert missing["Go"].install_command().endswith("apt-get install -y golang-go")
    assert missing["redis-server"].install_command().endswith("apt-get install -y redis-server")
    assert missing["the FerretDB 1.24.2 build"].install_command() == f"{DOCTOR} --build"


def test_go_is_not_needed_once_ferretdb_is_built(bare_system, monkeypatch):
    from narrative_fixtures.services.mongodb import server

    monkeypatch.setattr(server, "ferretdb_built", lambda cache_dir: True)
    assert [item.what for item in missing_prerequisites(["mongodb"])] == []


def test_services_without_system_needs_declare_nothing(bare_system):
    assert missing_prerequisites(["s3", "openai"]) == []
    assert missing_prerequisites(["no-such-service"]) == []


@pytest.mark.parametrize(
    ("manager", "expected"),
    [
        ("apt", "apt-get install -y golang-go"),
        ("dnf", "dnf install -y golang"),
        ("apk", "apk add go"),
        ("brew", "brew install go"),
    ],
)
def test_the_install_command_is_in_the_systems_own_words(manager, expected):
    go = service_specs()["mongodb"].prerequisite("Go")
    command = go.install_command(manager)
    assert command.endswith(expected)
    assert command.startswith("sudo ") == (manager != "brew" and os.geteuid() != 0)


def test_the_package_manager_is_detected_from_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _path_with(tmp_path, "apk"))
    assert prerequisites.package_manager() == "apk"
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert prerequisites.package_manager() is None


def test_without_a_known_package_manager_the_message_lists_each_systems_words(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    command = service_specs()["redis"].prerequisite("redis-server").install_command()
    assert "apt: apt-get install -y redis-server" in command
    assert "brew: brew install redis" in command


def test_the_not_installed_line_names_what_to_install_the_doctor_and_the_way_around(bare_system):
    line = service_specs()["redis"].prerequisite("redis-server").message(instead="set TEST_REDIS_URL")
    assert "redis-server is not installed" in line
    assert "apt-get install -y redis-server" in line
    assert DOCTOR in line
    assert line.endswith("- or set TEST_REDIS_URL")
    assert ".ci/install" not in line
    assert "\n" not in line


def test_an_extras_prerequisite_is_asked_only_when_the_extra_is_installed(monkeypatch):
    node = Prerequisite("Node", "x", "y", program="npx", optional_import="no_such_module_here")
    monkeypatch.setattr(prerequisites, "PLUGIN_PREREQUISITES", (node,))
    assert node not in prerequisites.declared_prerequisites()


def test_a_pip_user_without_go_is_told_to_install_go_and_run_the_doctor(project, tmp_path):
    """A fresh machine: no Go on PATH, no FerretDB in the cache; a MongoDB test's skip names Go and the doctor."""
    project.makepyfile(test_uses_mongodb="def test_db(mongodb_service):\n    assert mongodb_service.url\n")
    project._monkeypatch.setenv("PATH", _path_with(tmp_path, "apt-get"))
    project._monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = project.runpytest_subprocess("-rs", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    output = result.stdout.str()
    assert "Go is not installed" in output and "apt-get install -y golang-go" in output
    assert DOCTOR in output
    assert ".ci/install" not in output


def test_a_pip_user_without_redis_server_is_told_how_to_install_it(project, tmp_path):
    project.makepyfile(test_uses_redis="def test_kv(redis_service):\n    assert redis_service.url\n")
    project._monkeypatch.setenv("PATH", _path_with(tmp_path, "dnf"))  # a Fedora-like system without redis-server
    result = project.runpytest_subprocess("-rs", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    output = result.stdout.str()
    assert "redis-server is not installed" in output and "dnf install -y redis" in output
    assert DOCTOR in output and "TEST_REDIS_URL" in output
    assert ".ci/install" not in output
