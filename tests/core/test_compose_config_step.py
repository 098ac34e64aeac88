"""steps.compose's '"docker compose config" accepts the file': one docker process when the file is accepted, the
plugin probe only after a refusal (to tell a missing compose plugin, a skip, from a rejected file, a failure)."""

from __future__ import annotations

import subprocess

import pytest

import steps.compose


class FakeDocker:
    """``subprocess.run`` for docker: each sub-command's exit status, every command line kept."""

    def __init__(self, config: int, version: int) -> None:
        self.status = {"config": config, "version": version}
        self.commands: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        self.commands.append(list(argv))
        status = self.status["config" if "config" in argv else "version"]
        return subprocess.CompletedProcess(argv, status, stdout="", stderr="" if status == 0 else "refused: bad key")


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch):
    def install(config: int, version: int) -> FakeDocker:
        fake = FakeDocker(config, version)
        monkeypatch.setattr(steps.compose.shutil, "which", lambda name: "/usr/bin/docker")
        monkeypatch.setattr(steps.compose.subprocess, "run", fake)
        return fake

    return install


def run_step(request: pytest.FixtureRequest) -> None:
    steps.compose.docker_compose_config(request, {"path": "docker-compose.test.yml"})  # pytest-bdd leaves it callable


def test_an_accepted_file_costs_one_docker_process(docker, request):
    fake = docker(config=0, version=0)
    run_step(request)
    assert [command[-2:] for command in fake.commands] == [["config", "--quiet"]]


def test_a_refused_file_fails_naming_the_file_once_compose_is_known_to_be_there(docker, request):
    fake = docker(config=1, version=0)
    with pytest.raises(AssertionError, match="docker compose config rejected docker-compose.test.yml: refused"):
        run_step(request)
    assert [command[-1] for command in fake.commands] == ["--quiet", "version"]


def test_without_the_compose_plugin_the_step_is_skipped_not_failed(docker, request):
    docker(config=1, version=1)
    with pytest.raises(pytest.skip.Exception, match="docker compose plugin"):
        run_step(request)
