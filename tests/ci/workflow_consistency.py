"""Does the CI workflow reach the same test services as ``docker-compose.test.yml`` and the plugin's settings?

:func:`drifts` compares the two parsed files (PyYAML) and returns one line per disagreement: a service container's
image, ports or environment; a compose service without its container; a compose ``command``'s options not applied
to the container (a service container takes no command: the workflow applies them with ``CONFIG SET``); an
environment variable the plugin does not read; a URL, credential or port of the external job that is not the
compose file's, or not the plugin's default. Lines name the variable, never a credential's value.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from narrative_fixtures.core.settings import all_settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "acceptance.yml"
COMPOSE = ROOT / "docker-compose.test.yml"
EXTERNAL_SERVICES = ("mongodb", "redis", "s3")  # the services the compose file stands in for
LOOPBACK_NAMES = ("localhost", "127.0.0.1")  # where the runner publishes the containers' ports


def load(path: Path) -> dict:
    """A YAML file as a mapping (PyYAML's safe loader; the workflow's ``on:`` key stays the string "on")."""
    return yaml.load(path.read_text(), Loader=_StringBooleans)


class _StringBooleans(yaml.SafeLoader):
    """YAML 1.1 reads the key ``on`` as True; GitHub reads it as a string, and so do we."""


_StringBooleans.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def environment(mapping: dict | list | None) -> dict[str, str]:
    """A compose ``environment`` (a mapping or ``KEY=value`` list) or a workflow ``env`` as a str -> str dict."""
    if isinstance(mapping, list):
        mapping = dict(item.split("=", 1) if "=" in item else (item, "") for item in mapping)
    return {str(key): str(value) for key, value in (mapping or {}).items()}


def port_pairs(ports: list | None) -> set[tuple[int, int]]:
    """``"27018:27017"`` (or ``{published, target}``) as {(published, target)}."""
    pairs = set()
    for port in ports or []:
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            *_host, published, target = str(port).split("/")[0].split(":")
            pairs.add((int(published), int(target)))
    return pairs


def plugin_defaults() -> dict[str, str | None]:
    """Every environment variable the plugin reads, with its default."""
    return {setting.env: setting.default for _service, setting in all_settings() if setting.env}


def compose_command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def command_options(service: dict) -> dict[str, str]:
    """A compose ``command``'s ``--name value`` options (``redis-server --requirepass x``: {requirepass: x})."""
    words = compose_command(service)
    return {word[2:]: value for word, value in zip(words, words[1:]) if word.startswith("--")}


def applied_config(steps: list[dict]) -> dict[str, dict[str, str]]:
    """Per service container, what the job's steps set with ``docker exec <its id> redis-cli CONFIG SET k v ...``."""
    applied: dict[str, dict[str, str]] = {}
    for step in steps:
        run = " ".join(str(step.get("run") or "").split())
        container = re.search(r"job\.services\.([\w-]+)\.id", run)
        if container is None or "CONFIG SET" not in run:
            continue
        words = shlex.split(run.split("CONFIG SET", 1)[1])
        applied.setdefault(container.group(1), {}).update(zip(words[::2], words[1::2]))
    return applied


def drifts(workflow: dict, compose: dict) -> list[str]:
    """Every way the workflow disagrees with the compose file or the plugin's settings ([] when they agree)."""
    problems: list[str] = []
    known = plugin_defaults()
    for job_name, job in workflow["jobs"].items():
        for variable in environment(job.get("env")):
            if variable not in known:
                problems.append(f"job {job_name}: {variable} is not a setting of the plugin (a typo is ignored)")
    external = [(name, job) for name, job in workflow["jobs"].items() if job.get("services")]
    if len(external) != 1:
        return [*problems, f"expected one job with service containers, found {len(external)}"]
    job_name, job = external[0]
    problems += _service_containers(job_name, job, compose["services"])
    problems += _external_settings(job_name, environment(job.get("env")), compose["services"], known)
    return problems


def _service_containers(job_name: str, job: dict, services: dict) -> list[str]:
    problems = []
    containers = job["services"]
    applied = applied_config(job.get("steps") or [])
    for name, service in services.items():
        container = containers.get(name)
        if container is None:
            problems.append(f"job {job_name}: compose service {name} has no service container")
            continue
        for option, value in command_options(service).items():
            if option not in applied.get(name, {}):
                problems.append(f"{name}: the compose command's --{option} is not applied (CONFIG SET)")
            elif applied[name][option] != value:
                problems.append(f"{name}: {option} differs from the compose command's --{option}")
        if str(container.get("image")) != str(service.get("image")):
            problems.append(
                f"{name}: image {container.get('image')} differs from the compose file's {service.get('image')}"
            )
        if port_pairs(container.get("ports")) != port_pairs(service.get("ports")):
            problems.append(
                f"{name}: ports {sorted(port_pairs(container.get('ports')))} differ from the compose file's"
                f" {sorted(port_pairs(service.get('ports')))}"
            )
        ours, theirs = environment(container.get("env")), environment(service.get("environment"))
        for variable in sorted(set(ours) | set(theirs)):
            if ours.get(variable) != theirs.get(variable):
                problems.append(f"{name}: {variable} differs from the compose file's")
    for name in containers:
        if name not in services:
            problems.append(f"job {job_name}: service container {name} is not in {COMPOSE.name}")
    return problems


def _external_settings(job_name: str, env: dict[str, str], services: dict, known: dict) -> list[str]:
    problems = []
    for service in EXTERNAL_SERVICES:
        variable = f"TEST_{service.upper()}_MODE"
        if env.get(variable) != "external":
            problems.append(f"job {job_name}: {variable} is not external")
    mongo, redis, localstack = services["mongodb-test"], services["redis-test"], services["localstack"]
    mongo_env, localstack_env = environment(mongo.get("environment")), environment(localstack.get("environment"))
    redis_password = command_options(redis).get("requirepass")
    expected = {  # variable -> (URL part or None for the whole value, what it must equal, named as)
        "TEST_MONGODB_URI": [("username", mongo_env.get("MONGO_INITDB_ROOT_USERNAME"), "MONGO_INITDB_ROOT_USERNAME"),
                             ("password", mongo_env.get("MONGO_INITDB_ROOT_PASSWORD"), "MONGO_INITDB_ROOT_PASSWORD"),
                             ("port", _published(mongo), "mongodb-test's published port")],
        "TEST_MONGODB_DB": [(None, mongo_env.get("MONGO_INITDB_DATABASE"), "MONGO_INITDB_DATABASE")],
        "TEST_REDIS_URL": [("password", redis_password, "redis-test's --requirepass"),
                           ("port", _published(redis), "redis-test's published port")],
        "S3_ENDPOINT_URL": [("port", _published(localstack), "localstack's published port")],
        **{name: [(None, localstack_env.get(name), f"localstack's {name}")]
           for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")},
    }
    for variable, checks in expected.items():
        if variable not in env:
            problems.append(f"job {job_name}: {variable} is not set")
            continue
        value = env[variable]
        for part, wanted, named in checks:
            actual = value if part is None else getattr(urlsplit(value), part)
            if actual != wanted:
                which = f"{variable} ({part})" if part else variable
                problems.append(f"job {job_name}: {which} differs from {named}")
        if any(part for part, _wanted, _named in checks) and urlsplit(value).hostname not in LOOPBACK_NAMES:
            problems.append(f"job {job_name}: {variable} is not on loopback (the cleaning rules would refuse it)")
        if known.get(variable) is not None and value != known[variable]:
            problems.append(f"job {job_name}: {variable} differs from the plugin's default (the compose file's)")
    return problems


def _published(service: dict) -> int | None:
    pairs = sorted(port_pairs(service.get("ports")))
    return pairs[0][0] if pairs else None


def shard_counts(workflow: dict) -> list[tuple[str, list, str]]:
    """(job, matrix shards, the --shard argument of its run steps) of every job with a shard matrix."""
    found = []
    for name, job in workflow["jobs"].items():
        shards = ((job.get("strategy") or {}).get("matrix") or {}).get("shard")
        if shards is None:
            continue
        runs = " ".join(str(step.get("run") or "") for step in job.get("steps") or [])
        argument = re.search(r'--shard[ =](?:"([^"]+)"|(\S+))', runs)
        found.append((name, shards, next(filter(None, argument.groups())) if argument else ""))
    return found
