"""Helpers of the MongoDB self-tests: a FerretDB of their own, started through the plugin's provisioning."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from narrative_fixtures import config as cfg
from narrative_fixtures.provisioning import Endpoint, ProvisionContext

LOG_DIR = "/tmp/narrative-test-logs"
PER_TEST_LOOPS_INI = (  # another project's ini with pytest-asyncio's default: a new event loop for every test
    "[pytest]\nasyncio_mode = strict\nservices_log_dir = reports/services\n"
    "asyncio_default_fixture_loop_scope = function\nasyncio_default_test_loop_scope = function\n"
)


def settings(**ini: str) -> cfg.Settings:
    """Default settings (none of the outer run's MONGODB variables), the binary cache of NARRATIVE_CACHE_DIR."""
    env = {key: os.environ[key] for key in ("NARRATIVE_CACHE_DIR",) if key in os.environ}
    return cfg.resolve({}, env, {"services_log_dir": LOG_DIR, **ini}, Path("/"))


def serial_run() -> ProvisionContext:
    """A serial run's context (worker ``master``, the default settings), as the plugin gives a provider one."""
    return ProvisionContext(settings(), "master")


@contextmanager
def own_ferretdb() -> Iterator[Endpoint]:
    """A FerretDB of the test's own (the plugin's embedded provider), for nested runs to use as an 'external' server."""
    from narrative_fixtures.services.mongodb import PROVIDER

    endpoint, server = PROVIDER.start_embedded(serial_run())
    try:
        yield endpoint
    finally:
        server.stop()


# The binary cache as this user sees it, read at import: pytester later points HOME at a temp dir, where a nested
# run would find no FerretDB and build one from scratch.
CACHE_DIR = settings().cache_dir

MONGODB_VARIABLES = (
    "TEST_MONGODB_URI", "TEST_MONGODB_MODE", "TEST_MONGODB_DB", "TEST_MONGODB_ALLOW_UNSAFE", "TEST_MONGODB_MODELS",
    "TEST_REQUIRE_SERVICES",
)


def point_nested_runs_at(project, url: str | None = None, database: str | None = None):
    """A pytester project whose nested runs read none of the outer run's MongoDB settings and find the built
    FerretDB; with ``url`` (and ``database``) they use that server as an external one. Returns the project."""
    for variable in MONGODB_VARIABLES:
        project._monkeypatch.delenv(variable, raising=False)
    project._monkeypatch.setenv("NARRATIVE_CACHE_DIR", str(CACHE_DIR))
    if url is not None:
        project._monkeypatch.setenv("TEST_MONGODB_URI", url)
    if database is not None:
        project._monkeypatch.setenv("TEST_MONGODB_DB", database)
    return project


@contextmanager
def throwaway_database(url: str, prefix: str) -> Iterator:
    """A synchronous PyMongo ``Database`` with a fresh test name on ``url``, dropped (and its client closed) after."""
    import uuid

    import pymongo

    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=2000)
    database = client[f"{prefix}_{uuid.uuid4().hex[:10]}_test"]
    try:
        yield database
    finally:
        client.drop_database(database.name)
        client.close()


@contextmanager
def own_ferretdb_with_users(user: str, password: str) -> Iterator[str]:
    """A FerretDB that requires authentication (its experimental new auth, user created at start); yields its URL
    without credentials. Stands in for the compose MongoDB 7 and its root user."""
    from narrative_fixtures.services.mongodb import _op_msg_ping, build_ferretdb

    binary = build_ferretdb(settings().cache_dir, progress=lambda message: None)

    def command(port: int, workdir: Path) -> list[str]:
        (workdir / "data").mkdir()
        return [
            str(binary), "--handler=sqlite", f"--sqlite-url=file:{workdir}/data/", f"--state-dir={workdir}",
            f"--listen-addr=127.0.0.1:{port}", "--debug-addr=-", "--telemetry=disable", "--log-level=error",
            "--test-enable-new-auth", "--setup-database=admin", f"--setup-username={user}",
        ]

    context = ProvisionContext(settings(), "master")
    server = context.server_process("mongodb", command, _op_msg_ping, env={"FERRETDB_SETUP_PASSWORD": password})
    server.start()
    try:
        yield f"mongodb://127.0.0.1:{server.port}/"
    finally:
        server.stop()
