"""Steps of "Docker Compose configuration for test services": the compose file checked against the spec and
against the fixtures' own defaults (ports, credentials, database), then by ``docker compose config`` if installed."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, then

from narrative_fixtures.core.settings import all_settings
from narrative_fixtures.signoff.allure_labels import attach

COMPOSE_FILE = "docker-compose.test.yml"
COMPOSE_SCHEMA = Path(__file__).resolve().parent.parent / "features" / "data" / "compose-spec.json"
COMPOSE_SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"


def _default(env: str) -> str:
    for _service, setting in all_settings():
        if setting.env == env:
            return setting.default or ""
    raise KeyError(env)


def _environment_of(service: dict) -> dict[str, str]:
    environment_ = service.get("environment") or {}
    if isinstance(environment_, list):
        environment_ = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment_)
    return {str(key): str(value) for key, value in environment_.items()}


def _published_ports(service: dict) -> set[int]:
    published = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            value = port.get("published")
        else:
            parts = str(port).split("/")[0].split(":")
            value = parts[-2] if len(parts) >= 2 else None
        if value not in (None, ""):
            published.add(int(str(value).split("-")[0]))
    return published


@given("the repository's Docker Compose file for the test services", target_fixture="compose")
def compose_file(request) -> dict:
    import yaml

    path = Path(request.config.rootpath) / COMPOSE_FILE
    assert path.is_file(), f"{COMPOSE_FILE} is missing at the repository root"
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict) and document.get("services"), f"{COMPOSE_FILE} defines no services"
    return {"path": path, "document": document}


@then("it is valid according to the Compose specification")
def compose_valid(request, compose):
    import jsonschema

    raw = COMPOSE_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == COMPOSE_SCHEMA_SHA256, f"{COMPOSE_SCHEMA.name} is not the vendored copy"
    schema = json.loads(raw)
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(compose["document"])]
    attach(request, "compose validation", "\n".join(errors) or f"{COMPOSE_FILE}: valid ({schema.get('title')})")
    assert not errors, f"{COMPOSE_FILE} breaks the Compose specification: " + "; ".join(errors[:5])


@then(parsers.parse('the service "{service}" runs the image "{image}"'), target_fixture="compose_service")
def compose_image(compose, service, image):
    services = compose["document"]["services"]
    assert service in services, f"{COMPOSE_FILE} has no service {service!r} (it has {', '.join(services)})"
    actual = str(services[service].get("image") or "")
    matches = actual == image or (actual.startswith(image) and actual[len(image)] in ":-.@")
    assert matches, f"{service} runs {actual!r}, not {image!r}"
    return services[service]


@then(parsers.parse("it publishes the port that {setting} points at by default"))
def compose_port(compose_service, setting):
    port = urlsplit(_default(setting)).port
    assert port is not None, f"the default {setting} names no port"
    published = _published_ports(compose_service)
    assert port in published, f"the default {setting} expects port {port}; the service publishes {sorted(published)}"


@then("it reports itself healthy only through a health check")
def compose_healthcheck(compose_service):
    check = compose_service.get("healthcheck") or {}
    assert not check.get("disable"), "the health check is disabled"
    assert check.get("test"), "the service has no health check"


@then("it keeps its data in a named volume and joins the test network")
def compose_volume_network(compose, compose_service):
    document = compose["document"]
    named = set(document.get("volumes") or {})
    sources = {
        (v.get("source") if isinstance(v, dict) else str(v).split(":")[0]) for v in compose_service.get("volumes") or []
    }
    assert sources & named, f"no named volume among {sorted(sources)} (declared: {sorted(named)})"
    networks = compose_service.get("networks") or []
    joined = set(networks if isinstance(networks, list) else networks.keys())
    assert joined & set(document.get("networks") or {}), "the service joins none of the file's networks"


@then("MongoDB's root user and password are those of the default TEST_MONGODB_URI")
def compose_mongo_credentials(compose):
    env = _environment_of(compose["document"]["services"]["mongodb-test"])
    uri = urlsplit(_default("TEST_MONGODB_URI"))
    same_user = env.get("MONGO_INITDB_ROOT_USERNAME") == uri.username
    same_password = env.get("MONGO_INITDB_ROOT_PASSWORD") == uri.password  # compared, never printed
    assert same_user, "MONGO_INITDB_ROOT_USERNAME differs from the user of the default TEST_MONGODB_URI"
    assert same_password, "MONGO_INITDB_ROOT_PASSWORD differs from the password of the default TEST_MONGODB_URI"


@then("MongoDB's initial database is the default TEST_MONGODB_DB")
def compose_mongo_db(compose):
    env = _environment_of(compose["document"]["services"]["mongodb-test"])
    assert env.get("MONGO_INITDB_DATABASE") == _default("TEST_MONGODB_DB")


@then("Redis requires the password of the default TEST_REDIS_URL")
def compose_redis_password(compose):
    service = compose["document"]["services"]["redis-test"]
    command = service.get("command") or []
    words = command.split() if isinstance(command, str) else [str(word) for word in command]
    assert "--requirepass" in words, "redis-test does not start redis-server with --requirepass"
    same = words[words.index("--requirepass") + 1] == urlsplit(_default("TEST_REDIS_URL")).password
    assert same, "redis-test's --requirepass differs from the password of the default TEST_REDIS_URL"


@then("LocalStack is given the default AWS keys and region of the S3 fixtures")
def compose_localstack_keys(compose):
    env = _environment_of(compose["document"]["services"]["localstack"])
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        same = env.get(variable) == _default(variable)
        assert same, f"localstack's {variable} differs from the S3 fixtures' default {variable}"
    assert "s3" in env.get("SERVICES", "s3").split(","), "LocalStack is not told to run S3"


@then('"docker compose config" accepts the file')
def docker_compose_config(request, compose):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("Docker is not installed here: docker compose config could not be run")
    done = subprocess.run(
        [docker, "compose", "-f", str(compose["path"]), "config", "--quiet"], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:  # only then is it worth a second process: a refusal, or no compose plugin at all?
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            pytest.skip("Docker Compose (the docker compose plugin) is not installed here: docker compose config could not be run")
    attach(request, "docker compose config", (done.stdout + done.stderr) or "accepted")
    assert done.returncode == 0, f"docker compose config rejected {COMPOSE_FILE}: {done.stderr.strip()[:500]}"
