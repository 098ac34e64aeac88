"""No secret ever reaches an output: the acceptance features run against services holding distinctive secrets, then
every byte the run left behind is searched for them.

The nested runs use a copy of this repository (so the real reports/ is not overwritten) in external mode against:
Redis (a redis-server of ours with its generated password), an auth-enabled FerretDB (user and distinctive password),
moto's S3 server (distinctive AWS keys: moto accepts any key, so they are only carried, never checked) and the fake
OpenAI API (distinctive TEST_OPENAI_API_KEY; a distinctive OPENAI_API_KEY that must never even be read). Searched:
pytest's stdout and stderr (-v; then a run with deliberately failing assertions on endpoints and clients, with -l),
reports/ (run.json, signoff.md, signoff.html, services/), the Allure results, and the services' logs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from narrative_fixtures.provisioning import ProvisionContext
from tests.conftest import repository_copy
from tests.mongodb_support import CACHE_DIR, own_ferretdb_with_users, settings

ROOT = Path(__file__).resolve().parents[2]

MONGO_PASSWORD = "Mongo-Pa55-5ecret-7f3a9c"
S3_KEY_ID = "AKIADISTINCTKEY4242"
S3_SECRET = "S3-5ecret-Key-b81e2d90"
OPENAI_TEST_KEY = "sk-test-5ecret-c04d19ab"
OPENAI_REAL_KEY = "sk-proj-Real-5ecret-e55a70"

# A URL that carries a password in clear (anything but ``user:***@``): catches secrets generated at run time too.
CLEAR_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/:@'\"]*:(?!\*\*\*@)[^\s/@'\"]+@", re.I)

FAILING = '''
"""Deliberately failing assertions that involve endpoints and clients, as a user might write them."""
import pytest


def test_redis_endpoint(redis_service):
    assert redis_service is None


@pytest.mark.asyncio
async def test_redis_client(redis_client):
    assert await redis_client.get("missing") == "present", redis_client


def test_mongodb_endpoint(mongodb_service):
    assert mongodb_service.summary() == "", mongodb_service.details


@pytest.mark.asyncio
async def test_mongodb_client(mongo_client, setup_database):
    assert mongo_client is None


def test_s3_endpoint(s3_service, s3_client):
    assert s3_service.masked_url == "", s3_client


def test_openai_endpoint(openai_service, openai_sync_client):
    assert openai_sync_client is None, (openai_service, openai_sync_client.base_url)
'''


class Prepared(tuple):
    """(env, secrets, log dir) whose repr never shows them: a failing test here must not leak what it guards."""

    def __repr__(self) -> str:
        return "<four services with distinctive secrets (hidden)>"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Four services started here, with distinctive secrets; yields (env for the nested runs, secrets, log dir)."""
    from narrative_fixtures.services.openai import PROVIDER as OPENAI
    from narrative_fixtures.services.redis import PROVIDER as REDIS
    from narrative_fixtures.services.s3 import PROVIDER as S3
    from narrative_fixtures.config import url_password

    logs = tmp_path_factory.mktemp("service-logs")
    context = ProvisionContext(settings(services_log_dir=str(logs)), "master")
    started = []
    try:
        redis_endpoint, server = REDIS.start_embedded(context)
        started.append(server)
        s3_endpoint, server = S3.start_embedded(context)
        started.append(server)
        openai_endpoint, server = OPENAI.start_embedded(context)
        started.append(server)
        with own_ferretdb_with_users("test_admin", MONGO_PASSWORD) as mongo_url:
            env = {
                "TEST_REDIS_URL": redis_endpoint.url,
                "TEST_MONGODB_URI": mongo_url.replace("mongodb://", f"mongodb://test_admin:{MONGO_PASSWORD}@", 1),
                "S3_ENDPOINT_URL": s3_endpoint.url,
                "AWS_ACCESS_KEY_ID": S3_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": S3_SECRET,
                "TEST_OPENAI_BASE_URL": openai_endpoint.url,
                "TEST_OPENAI_API_KEY": OPENAI_TEST_KEY,
                "OPENAI_API_KEY": OPENAI_REAL_KEY,
            }
            secrets = [url_password(redis_endpoint.url), MONGO_PASSWORD, S3_KEY_ID, S3_SECRET, OPENAI_TEST_KEY,
                       OPENAI_REAL_KEY]
            yield Prepared((env, secrets, logs))
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the repository's files (tracked and new, not ignored): its runs write their own reports/."""
    return repository_copy(tmp_path_factory.mktemp("repository"))


def _run(tree: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    # a run of its own, not nested in ours (so it writes its sign-off), seeing none of our TEST_* settings
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(("TEST_", "PYTEST_XDIST", "NARRATIVE_SIGNOFF_RUN", "NARRATIVE_REPORTS_DIR"))}
    clean.update(env, NARRATIVE_CACHE_DIR=str(CACHE_DIR))
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=tree, env=clean, capture_output=True, text=True, timeout=600
    )


def _leaks(secrets: list[str], texts: dict[str, str]) -> list[str]:
    found = []
    for where, text in texts.items():
        for secret in secrets:
            if secret and secret in text:
                at = text.index(secret)
                around = text[max(0, at - 60) : at + len(secret) + 20].replace(secret, "<SECRET>")
                found.append(f"{where}: {secret[:4]}... appears: {around!r}")
        for match in CLEAR_URL_PASSWORD.finditer(text):
            found.append(f"{where}: a URL with a clear password ({match.group(0)[:12]}...)")
    return found


def _files(*roots: Path) -> dict[str, str]:
    texts = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else ():
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


@pytest.mark.timeout(600)
def test_an_acceptance_run_shows_no_secret_anywhere(services, tree, tmp_path):
    env, secrets, logs = services
    allure = tmp_path / "allure"
    result = _run(tree, env, "features", "-v", "--require-services", "-p", "no:randomly", f"--alluredir={allure}")
    tail = result.stdout[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout.splitlines()[-1] and "failed" not in result.stdout.splitlines()[-1], tail
    for variable in ("TEST_REDIS_URL", "TEST_MONGODB_URI", "S3_ENDPOINT_URL", "TEST_OPENAI_BASE_URL"):
        assert f"mode=external (env {variable} is set)" in result.stdout, "the run must really use our services"
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **_files(tree / "reports", allure, logs)}
    assert (tree / "reports" / "run.json").exists() and (tree / "reports" / "signoff.md").exists()
    assert any(name.endswith("-result.json") for name in outputs), "the Allure results were written"
    print(f"searched {len(outputs)} outputs ({sum(map(len, outputs.values())) // 1024} KiB) for {len(secrets)} secrets")
    leaks = _leaks(secrets, outputs)
    assert not leaks, "\n".join(leaks)


@pytest.mark.timeout(300)
def test_failing_assertions_on_endpoints_and_clients_show_no_secret(services, tree, tmp_path):
    env, secrets, logs = services
    (tree / "features" / "test_zz_failing_on_purpose.py").write_text(FAILING)
    allure = tmp_path / "allure"
    try:
        result = _run(
            tree, env, "features/test_zz_failing_on_purpose.py", "-v", "-l", "-p", "no:randomly",
            f"--alluredir={allure}",
        )
    finally:
        (tree / "features" / "test_zz_failing_on_purpose.py").unlink()
    result_line = result.stdout.splitlines()[-1]
    assert "6 failed" in result_line, result.stdout[-3000:]
    outputs = {"stdout": result.stdout, "stderr": result.stderr, **_files(tree / "reports", allure, logs)}
    leaks = _leaks(secrets, outputs)
    assert not leaks, "\n".join(leaks)


# --- secrets that only a query string carries (issue 11, case 7) ------------------------------------------------

REDIS_QUERY_PASSWORD = "Redis-Query-5ecret-9d41e7"  # only ever in ``?password=`` of TEST_REDIS_URL
MONGO_QUERY_SECRET = "Tls-Key-5ecret-3b7c55"  # only ever in ``?tlsCertificateKeyFilePassword=`` of TEST_MONGODB_URI
MONGO_USERINFO_PASSWORD = "Mongo-Userinfo-5ecret-2e8f"  # in the userinfo of TEST_MONGODB_URI

FAILING_ON_QUERY_URLS = '''
"""Failures that show the endpoints' URLs and details, as a user's assertion might."""


def test_redis_url_in_a_failure(redis_service):
    assert redis_service.url == "", (redis_service.url, redis_service.details)


def test_mongodb_url_in_a_failure(mongodb_service):
    assert mongodb_service.url == "", (mongodb_service.url, mongodb_service.details)
'''


@pytest.fixture(scope="module")
def query_services(tmp_path_factory):
    """A Redis whose password is given only as ``?password=`` and an authenticating FerretDB (password in the URI's
    userinfo); yields (env, secrets, log dir)."""
    import redis

    from narrative_fixtures.services.redis import PROVIDER as REDIS

    logs = tmp_path_factory.mktemp("query-service-logs")
    context = ProvisionContext(settings(services_log_dir=str(logs)), "master")
    endpoint, server = REDIS.start_embedded(context)
    try:
        port = endpoint.url.rsplit(":", 1)[1].split("/")[0]
        admin = redis.Redis.from_url(endpoint.url)
        admin.config_set("requirepass", REDIS_QUERY_PASSWORD)  # the run's generated password is no longer valid
        redis_url = f"redis://127.0.0.1:{port}/9?password={REDIS_QUERY_PASSWORD}"
        with own_ferretdb_with_users("test_admin", MONGO_USERINFO_PASSWORD) as mongo_url:
            host = mongo_url.split("://", 1)[1].rstrip("/")
            env = {
                "TEST_REDIS_URL": redis_url,
                "TEST_MONGODB_URI": f"mongodb://test_admin:{MONGO_USERINFO_PASSWORD}@{host}/",
                "TEST_S3_MODE": "embedded",
                "TEST_OPENAI_MODE": "embedded",
            }
            yield Prepared((env, [REDIS_QUERY_PASSWORD, MONGO_QUERY_SECRET, MONGO_USERINFO_PASSWORD], logs))
    finally:
        server.stop()


@pytest.mark.timeout(600)
def test_a_secret_only_in_a_query_string_appears_nowhere(query_services, tree, tmp_path):
    """Issue 11 case 7: ``?password=`` (Redis) and ``?tlsCertificateKeyFilePassword=`` (MongoDB) are masked in the
    terminal (header, services line, failures), every run record and sign-off, the Allure results and the logs.

    The acceptance features pass against the Redis and the FerretDB; then a run whose MongoDB URI also carries the
    TLS key password (pymongo then insists on TLS, so MongoDB fails with the URI in every message) and whose tests
    put the endpoints' URLs and details into their failures."""
    env, secrets, logs = query_services
    allure = tmp_path / "allure"
    result = _run(tree, env, "features", "-v", "--require-services", "-p", "no:randomly", f"--alluredir={allure}")
    assert result.returncode == 0, result.stdout[-3000:]
    for variable in ("TEST_REDIS_URL", "TEST_MONGODB_URI"):
        assert f"mode=external (env {variable} is set)" in result.stdout, "the run must really use our servers"
    assert "?password=***" in result.stdout, "the header shows the Redis URL, masked"
    tls_uri = env["TEST_MONGODB_URI"] + f"?tlsCertificateKeyFilePassword={MONGO_QUERY_SECRET}"
    (tree / "features" / "test_zz_query_urls.py").write_text(FAILING_ON_QUERY_URLS)
    try:
        failing = _run(
            tree, {**env, "TEST_MONGODB_URI": tls_uri}, "features/test_zz_query_urls.py", "features/test_mongodb.py",
            "-v", "-l", "--require-services", "-p", "no:randomly", f"--alluredir={tmp_path / 'allure-failing'}",
        )  # fmt: skip
    finally:
        (tree / "features" / "test_zz_query_urls.py").unlink()
    assert failing.returncode == 1 and " passed" not in failing.stdout.splitlines()[-1], failing.stdout[-3000:]
    assert "tlsCertificateKeyFilePassword=***" in failing.stdout, failing.stdout[-3000:]
    outputs = {
        "stdout": result.stdout, "stderr": result.stderr, "failing stdout": failing.stdout,
        "failing stderr": failing.stderr, **_files(tree / "reports", allure, tmp_path / "allure-failing", logs),
    }  # fmt: skip
    written = {Path(name).name for name in outputs}
    assert {"run.json", "signoff.md", "signoff.html"} <= written, sorted(written)[:20]
    assert any(name.endswith("-result.json") for name in written), "the Allure results were written"
    print(f"searched {len(outputs)} outputs ({sum(map(len, outputs.values())) // 1024} KiB) for {len(secrets)} secrets")
    leaks = _leaks(secrets, outputs)
    assert not leaks, "\n".join(leaks)
