"""The registry stops its servers together: every process is asked to stop (TERM) before it waits for any, so the
shutdowns overlap (one wait at the end of a run, not one per service)."""

from __future__ import annotations

from pathlib import Path

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import Endpoint, ServiceRegistry


class Owned:
    def __init__(self, name: str, calls: list[str], can_terminate: bool = True) -> None:
        self.name, self.calls = name, calls
        if can_terminate:
            self.terminate = lambda: calls.append(f"terminate {name}")

    def stop(self) -> None:
        self.calls.append(f"stop {self.name}")


class Provider:
    def __init__(self, owned: Owned) -> None:
        self.owned = owned

    def start_embedded(self, context):
        return Endpoint(self.owned.name, "embedded", "http://127.0.0.1:1", "fake", "1", {}, 0.0), self.owned


def test_every_server_is_asked_to_stop_before_the_registry_waits_for_any(tmp_path: Path):
    calls: list[str] = []
    owned = {"redis": Owned("redis", calls), "s3": Owned("s3", calls), "openai": Owned("openai", calls, False)}
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, tmp_path)
    registry = ServiceRegistry(settings, {name: (lambda o=o: Provider(o)) for name, o in owned.items()}, "master")
    for name in owned:  # started redis, s3, openai: stopped in the reverse order
        registry.endpoint(name)
    registry.close()
    # the in-process server (no terminate) is only stopped; the processes are all asked before any wait
    assert calls == ["terminate s3", "terminate redis", "stop openai", "stop s3", "stop redis"], calls


def test_what_the_run_closes_before_its_servers_stop_is_closed_first_the_last_given_first(tmp_path: Path):
    calls: list[str] = []
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, tmp_path)
    registry = ServiceRegistry(settings, {"redis": lambda: Provider(Owned("redis", calls))}, "master")
    registry.endpoint("redis")
    registry.before_stop(lambda: calls.append("close the janitor"))
    registry.before_stop(lambda: calls.append("close the reader"))
    registry.close()
    registry.close()  # a second close calls nothing again
    assert calls == ["close the reader", "close the janitor", "terminate redis", "stop redis"], calls
