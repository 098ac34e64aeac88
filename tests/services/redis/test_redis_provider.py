"""The Redis provider without a nested pytest run: the embedded server it starts, the external URL it accepts
(per-worker database, ``?db=``), and the one-line errors of a wrong password or an unreachable server.

Written to kill the mutants the mutation run found (docs/mutation.md): each assertion pins a value a mutant broke.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from narrative_fixtures.core.masking import url_password
from narrative_fixtures.errors import ConfigError, ServiceUnavailable
from narrative_fixtures.services.redis.provider import DATABASES, PROVIDER, external_url, sync_client


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """(endpoint, process) of a redis-server started by the provider, as the plugin starts the run's one."""
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext

    logs = tmp_path_factory.mktemp("logs")
    settings = cfg.resolve({}, {}, {"services_log_dir": str(logs)}, Path("/"))
    endpoint, process = PROVIDER.start_embedded(ProvisionContext(settings, "master"))
    yield endpoint, process
    process.stop()


def test_the_embedded_server_is_a_password_protected_redis_server_on_database_0(embedded):
    endpoint, process = embedded
    assert endpoint.mode == "embedded" and endpoint.backend == "redis-server" and endpoint.service == "redis"
    assert endpoint.url == f"redis://:{url_password(endpoint.url)}@127.0.0.1:{process.port}/0"
    assert len(url_password(endpoint.url)) >= 16 and endpoint.db == 0
    assert endpoint.details == {"pid": process.pid, "db": 0} and endpoint.pid == process.pid
    client = sync_client(endpoint.url)
    try:
        assert client.info("server")["redis_version"] == endpoint.version
        assert client.config_get("save") == {"save": ""} and client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    finally:
        client.close()
    assert PROVIDER.health(endpoint) is None
    config = process.workdir / "redis.conf"
    assert config.stat().st_mode & 0o777 == 0o600, "the password is in it: readable by the run's user only"
    assert f"requirepass {url_password(endpoint.url)}\n" in config.read_text()


def test_no_redis_server_installed_says_what_to_install_or_which_setting_to_set(tmp_path):
    from narrative_fixtures import config as cfg
    from narrative_fixtures.errors import ServiceUnavailable
    from narrative_fixtures.provisioning import ProvisionContext

    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path / "logs")}, Path("/"))
    nothing_installed = ProvisionContext(settings, "master", environment={"PATH": str(tmp_path)})
    with pytest.raises(ServiceUnavailable) as missing:
        PROVIDER.start_embedded(nothing_installed)
    message = str(missing.value)
    assert "redis-server" in message and message.endswith("or set TEST_REDIS_URL to use an external Redis")


def test_an_external_redis_is_reached_with_its_version_and_database(embedded):
    endpoint, _ = embedded
    url = endpoint.url.rsplit("/", 1)[0] + "/5"
    external = PROVIDER.connect(url, "master", allow_flush=True)
    assert (external.mode, external.url, external.version) == ("external", url, endpoint.version)
    assert external.details == {"db": 5, "allow_flush": True} and external.db == 5


def test_a_wrong_password_is_one_line_naming_the_setting_without_the_password(embedded):
    endpoint, _ = embedded
    wrong = endpoint.url.replace(url_password(endpoint.url), "not-the-password")
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect(wrong, "master", setting="TEST_REDIS_URL")
    message = str(refused.value)
    assert message.startswith("redis rejected the password in TEST_REDIS_URL=redis://:***@127.0.0.1:")
    assert "not-the-password" not in message and "\n" not in message


def test_no_password_for_a_server_that_wants_one_is_the_same_one_line_error(embedded):
    endpoint, _ = embedded
    bare = "redis://127.0.0.1:" + endpoint.url.rsplit(":", 1)[1]
    with pytest.raises(ConfigError, match=r"^redis rejected the password in MY_REDIS=redis://127\.0\.0\.1:\d+/0 "):
        PROVIDER.connect(bare, "master", setting="MY_REDIS")


def test_an_unreachable_redis_is_unavailable_naming_the_setting():
    from narrative_fixtures.provisioning import free_port

    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    with pytest.raises(ServiceUnavailable, match=r"^cannot reach Redis at TEST_REDIS_URL=redis://:\*\*\*@127\.0\.0\.1"):
        PROVIDER.connect(url, "master")


@pytest.mark.parametrize(
    "url, worker, expected",
    [
        ("redis://h:1", "master", "redis://h:1"),
        ("redis://h:1/3", "master", "redis://h:1/3"),
        ("redis://h:1/?db=4&ssl_cert_reqs=none", "master", "redis://h:1/4?ssl_cert_reqs=none"),
        ("redis://h:1/3", "gw2", "redis://h:1/5"),
        ("redis://h:1/15", "gw1", "redis://h:1/0"),
        ("redis://h:1/4?db=4", "master", "redis://h:1/4"),
        ("rediss://:pw@h:1/2?password=x", "gw0", "rediss://:pw@h:1/2?password=x"),
    ],
)
def test_the_external_url_gets_the_database_of_the_worker(url, worker, expected, monkeypatch):
    if worker == "master":
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    else:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    assert external_url(url, worker) == expected
    assert DATABASES == 16


@pytest.mark.parametrize(
    "url, message",
    [
        ("redis://h:1/x", "TEST_REDIS_URL=redis://h:1/x: the database must be a number, not 'x'"),
        ("redis://h:1/?db=y", "the database must be a number, not 'y'"),
        ("redis://h:1/2?db=3", "the path selects database 2 and ?db= database 3; give one"),
    ],
)
def test_a_bad_database_in_the_url_is_one_line_naming_the_setting(url, message):
    with pytest.raises(ConfigError) as error:
        external_url(url, "master")
    assert message in str(error.value) and str(error.value).startswith("TEST_REDIS_URL=")


def test_the_external_setting_is_read_from_the_run_settings(embedded, monkeypatch):
    endpoint, _ = embedded
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)

    class Settings(dict):
        def flag(self, key):
            return self[key] == "1"

    class Context:
        worker_id = "master"

    url = endpoint.url.rsplit("/", 1)[0] + "/3"
    external = PROVIDER.connect_external(Settings(url=url, allow_flush="1"), Context())
    assert (external.url, external.details) == (url, {"db": 3, "allow_flush": True})


def test_a_client_of_the_plugin_reads_strings_and_gives_up_quickly(embedded):
    endpoint, _ = embedded
    client = sync_client(endpoint.url)
    try:
        client.set("k", "v")
        assert client.get("k") == "v"  # str, not bytes
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (1, 2)
    finally:
        client.delete("k")
        client.close()


class KnownSecret:
    """The run's provisioning context with a known password and, if asked, a server shared by the xdist workers."""

    def __init__(self, context, shared: bool = False) -> None:
        self._context, self.shared = context, shared

    def __getattr__(self, name):
        return getattr(self._context, name)

    def secret(self, service: str) -> str:
        return f"known-{service}-password"


@pytest.fixture
def context(tmp_path, monkeypatch):
    from narrative_fixtures import config as cfg
    from narrative_fixtures.provisioning import ProvisionContext

    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    settings = cfg.resolve({}, {}, {"services_log_dir": str(tmp_path)}, Path("/"))
    return ProvisionContext(settings, "master")


def test_the_run_server_uses_the_run_password_and_another_server_one_and_a_log_of_its_own(context):
    endpoint, process = PROVIDER.start_embedded(KnownSecret(context))
    try:
        assert url_password(endpoint.url) == "known-redis-password" and endpoint.started_in == process.started_in
    finally:
        process.stop()
    endpoint, process = PROVIDER.start_embedded(KnownSecret(context), server="redis-cache")
    try:
        assert url_password(endpoint.url) != "known-redis-cache-password"
        assert process.log_path == context.log_path("redis-cache") and endpoint.db == 0
    finally:
        process.stop()


def test_a_server_shared_by_the_xdist_workers_gives_each_worker_its_database(context, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")  # what a test may have done to the environment meanwhile
    endpoint, process = PROVIDER.start_embedded(KnownSecret(dataclasses.replace(context, worker_id="gw3"), shared=True))
    try:
        assert endpoint.db == 3 and endpoint.url.endswith("/3")
    finally:
        process.stop()


def test_the_worker_given_decides_the_database_not_the_environment(embedded, monkeypatch):
    endpoint, _ = embedded
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    url = endpoint.url.rsplit("/", 1)[0] + "/3"
    assert PROVIDER.connect(url, "master").url == url
    assert PROVIDER.connect(url, "gw1").url.endswith("/4")
    assert PROVIDER.connect(url, "master").details == {"db": 3, "allow_flush": False}

    class Settings(dict):
        def flag(self, key):
            return False

    class Context:
        worker_id = "master"

    assert PROVIDER.connect_external(Settings(url=url), Context()).url == url


def test_a_bad_external_url_names_the_setting_given():
    with pytest.raises(ConfigError, match=r"^MY_REDIS=redis://h:1/x: the database must be a number"):
        PROVIDER.connect("redis://h:1/x", "master", setting="MY_REDIS")


def test_a_url_that_is_not_a_redis_url_says_what_is_expected():
    with pytest.raises(ConfigError) as error:
        external_url("http://h:1", "master")
    expected = "TEST_REDIS_URL=http://h:1 is not a Redis URL (expected redis://[:password@]host:port/db)"
    assert str(error.value) == expected


def test_an_external_redis_is_named_a_redis_server(monkeypatch):
    class Answering:
        def info(self, section):
            return {"redis_version": "7.2.4"}

        def close(self):
            pass

    from narrative_fixtures.services.redis import provider

    monkeypatch.setattr(provider, "sync_client", lambda url, **options: Answering())
    external = PROVIDER.connect("redis://h:1/2", "master")
    assert (external.service, external.backend, external.version) == ("redis", "redis-server", "7.2.4")


@pytest.mark.parametrize("reply", ["NOAUTH Authentication required.", "WRONGPASS invalid username-password pair"])
def test_an_older_server_refusing_the_password_is_the_same_one_line_error(reply, monkeypatch):
    import redis as redis_py

    from narrative_fixtures.services.redis import provider

    class Refusing:
        def info(self, section):
            raise redis_py.ResponseError(reply)

        def close(self):
            pass

    monkeypatch.setattr(provider, "sync_client", lambda url, **options: Refusing())
    with pytest.raises(ConfigError) as refused:
        PROVIDER.connect("redis://:s3cret@h:1/2", "master")
    assert str(refused.value) == f"redis rejected the password in TEST_REDIS_URL=redis://:***@h:1/2 ({reply})"


def test_another_error_of_the_server_is_not_taken_for_a_password_problem(monkeypatch):
    import redis as redis_py

    from narrative_fixtures.services.redis import provider

    class Failing:
        def info(self, section):
            raise redis_py.ResponseError("ERR unknown command 'INFO'")

        def close(self):
            pass

    monkeypatch.setattr(provider, "sync_client", lambda url, **options: Failing())
    with pytest.raises(redis_py.ResponseError, match="unknown command"):
        PROVIDER.connect("redis://h:1/2", "master")


def test_another_server_has_an_18_byte_password_and_an_unshared_one_database_0(context, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    endpoint, process = PROVIDER.start_embedded(KnownSecret(context), server="redis-other")
    try:
        assert len(url_password(endpoint.url)) == 24 and endpoint.db == 0  # token_urlsafe(18): 24 characters
    finally:
        process.stop()
