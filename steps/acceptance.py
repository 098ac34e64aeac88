"""Steps of the four cross-cutting criteria: examples, graceful skipping, Docker Compose, documentation.

Two of them judge the service features with the sign-off's :class:`RunRecorder` (each scenario's outcome and the
fixtures it really used): the examples read the records of this run's own other scenarios (they run last), the
graceful skipping runs the service features again in a nested pytest session with every service unreachable.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, then, when

from narrative_fixtures import config as cfg
from narrative_fixtures import reference
from narrative_fixtures.provisioning import free_port
from narrative_fixtures.core.catalog import service_packages

SERVICE_MODULES = service_packages()  # service name -> its package, from the registered specs
from narrative_fixtures.services.common import registry_of
from reports.signoff.collect import labels_of, plugin_fixture_modules, plugin_fixtures, scenario_template
from reports.signoff.plugin import RECORDER_KEY, RunRecorder
from steps.allure_labels import attach
from steps.common import environment, keep_sdk_imports

COMPOSE_FILE = "docker-compose.test.yml"
COMPOSE_SCHEMA = Path(__file__).resolve().parent.parent / "features" / "data" / "compose-spec.json"
COMPOSE_SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
FIGURE = "narrative_figure"  # user_properties key: a measured figure the sign-off lists



# --- nested runs of the service features -----------------------------------------------------------------------


class ProbeCounter:
    """Nested-run plugin: counts how often each service is provisioned (started or probed), keeps the config."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.config: pytest.Config | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.config = session.config
        registry = registry_of(session.config)

        def counted(name, factory):
            def provider():
                self.attempts[name] = self.attempts.get(name, 0) + 1
                return factory()

            return provider

        registry.providers = {name: counted(name, factory) for name, factory in registry.providers.items()}


@dataclass
class NestedRun:
    """The outcome of the service features run in a nested pytest session."""

    result: pytest.RunResult
    recorder: RunRecorder
    probes: ProbeCounter
    elapsed: float
    files: list[str] = field(default_factory=list)

    def scenarios(self) -> list[dict]:
        return self.recorder.scenarios()

    def service_scenarios(self) -> list[dict]:
        """Scenarios marked with a service marker (``@redis``...)."""
        return [s for s in self.scenarios() if set(s.get("markers") or []) & set(cfg.SERVICES)]

    def count(self, outcome: str) -> int:
        return sum(s["outcome"] == outcome for s in self.scenarios())

    def summary(self) -> str:
        counts = {o: self.count(o) for o in ("passed", "failed", "error", "skipped") if self.count(o)}
        shown = ", ".join(f"{n} {o}" for o, n in counts.items()) or "no scenarios"
        return f"{len(self.scenarios())} scenarios ({shown}) in {self.elapsed:.2f} s"


def service_feature_files(rootdir: Path) -> list[Path]:
    """The feature test modules of the services the plugin has (``features/test_<service>.py``)."""
    return [path for name in SERVICE_MODULES if (path := rootdir / "features" / f"test_{name}.py").exists()]


def run_service_features(pytester: pytest.Pytester, rootdir: Path, env: dict[str, str | None], *args: str) -> NestedRun:
    files = service_feature_files(rootdir)
    assert files, f"no service features under {rootdir / 'features'}"
    recorder, probes = RunRecorder(), ProbeCounter()
    keep_sdk_imports()
    with environment(**env):
        began = time.perf_counter()
        result = pytester.runpytest_inprocess(
            *map(str, files),
            "--rootdir", str(rootdir), "-c", str(rootdir / "pyproject.toml"),
            "-p", "no:randomly", "-p", "no:cacheprovider", "-q",
            *args,
            plugins=[recorder, probes],
        )  # fmt: skip
        elapsed = time.perf_counter() - began
    return NestedRun(result, recorder, probes, elapsed, [str(path.relative_to(rootdir)) for path in files])


def _listed(items: list[str], limit: int = 5) -> str:
    """At most ``limit`` items, then how many more: a failure message stays one readable line."""
    shown = "; ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _figure(request: pytest.FixtureRequest, text: str) -> None:
    request.node.user_properties.append((FIGURE, text))
    print(text)
    attach(request, "figure", text)


def _attach_run(request: pytest.FixtureRequest, name: str, run: NestedRun) -> None:
    rows = ["outcome,feature,scenario,note"]
    for s in run.scenarios():
        rows.append(",".join(f'"{str(v).replace(chr(34), chr(39))}"' for v in (s["outcome"], s["feature"], s["scenario"], s["reason"])))
    attach(request, name, "\n".join(rows) + "\n", "csv")


# --- Integration test examples for each fixture type -----------------------------------------------------------
#
# The examples are this run's own scenarios. The criterion's scenarios run last (see the collection hook below)
# and read the sign-off recorder's records of every other selected scenario: its outcome and the fixtures it
# really used. Under pytest-xdist each worker appends its finished records to a directory the controller shares
# with all of them, and the examples wait (bounded) until every other selected scenario has a record.

EXAMPLES_CRITERION = "examples"
EXAMPLES_WAIT_S = 120.0  # xdist: how long the examples wait for the other workers' scenarios to finish


def is_examples_item(item: pytest.Item) -> bool:
    return labels_of(item).get("criterion") == EXAMPLES_CRITERION


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, so they stay last in every order
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The examples criterion judges the run's other scenarios, so its scenarios run after all of them."""
    examples = [item for item in items if is_examples_item(item)]
    if examples and len(examples) < len(items):
        items[:] = [item for item in items if not is_examples_item(item)] + examples


def _recorder(config: pytest.Config) -> RunRecorder | None:
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None:  # a nested run handed its own recorder as a plugin
        recorder = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, RunRecorder)), None)
    return recorder


def _service_of_fixture(module: str) -> str | None:
    """The service a fixture belongs to, from the plugin module that defines it (None: it serves every service)."""
    return next((name for name, path in SERVICE_MODULES.items() if module == path or module.startswith(path + ".")), None)


@dataclass
class RunExamples:
    """The other scenarios of this run, as the sign-off recorder saw them finish."""

    records: list[dict]  # one per other selected scenario
    selected: dict[str, int]  # service -> how many of its scenarios this run selected
    fixtures: dict[str, str | None]  # fixture the plugin registers -> its service (None: every service's)
    waited: float = 0.0

    def passing_fixtures(self) -> dict[str, list[str]]:
        """fixture name -> passing scenarios (``feature: scenario``) that used it."""
        used: dict[str, list[str]] = {}
        for record in self.records:
            if record["outcome"] == "passed":
                for name in record.get("fixtures") or []:
                    used.setdefault(name, []).append(f"{record['feature']}: {record['scenario']}")
        return used

    def of_service(self, service: str) -> list[dict]:
        return [r for r in self.records if service in (r.get("markers") or [])]

    def unproven(self, service: str | None) -> str | None:
        """Why the examples of ``service`` prove nothing in this run (not selected, all skipped), or None."""
        if service is None:
            return None if self.selected else "no service scenario was selected in this run"
        if not self.selected.get(service):
            return f"no {service} scenario was selected in this run"
        records = self.of_service(service)
        if records and all(r["outcome"] == "skipped" for r in records):
            return f"every {service} scenario was skipped ({records[0]['reason']})"
        return None

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        shown = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "none"
        services = ", ".join(sorted(s for s, n in self.selected.items() if n)) or "no service"
        return f"{len(self.records)} other scenarios of this run ({shown}; services: {services})"


def _collect_examples(request: pytest.FixtureRequest) -> RunExamples:
    recorder = _recorder(request.config)
    if recorder is None:
        pytest.fail("the sign-off recorder is not registered: the examples have nothing to read", pytrace=False)
    others = [item for item in request.session.items if not is_examples_item(item) and scenario_template(item)]
    expected = [item.nodeid for item in others]
    selected: dict[str, int] = {}
    for item in others:
        for mark in item.iter_markers():
            if mark.name in SERVICE_MODULES:
                selected[mark.name] = selected.get(mark.name, 0) + 1
    began = time.monotonic()
    while True:
        records = recorder.run_records()
        missing = [nodeid for nodeid in expected if nodeid not in records]
        if not missing:
            break
        if recorder.shared_dir is None:
            pytest.fail(
                f"{len(missing)} scenarios of this run had not finished before the examples: {_listed(missing, 3)}"
                " (the examples must run last; was the order changed after collection?)",
                pytrace=False,
            )
        if time.monotonic() - began > EXAMPLES_WAIT_S:
            pytest.fail(
                f"{len(missing)} scenarios of this run had no record after {EXAMPLES_WAIT_S:g} s of waiting for the"
                f" other xdist workers: {_listed(missing, 3)}",
                pytrace=False,
            )
        time.sleep(0.05)
    fixtures = {name: _service_of_fixture(module) for name, module in plugin_fixture_modules(request.session).items()}
    return RunExamples([records[n] for n in expected], selected, fixtures, time.monotonic() - began)


_EXAMPLES = pytest.StashKey[RunExamples]()


@given("every other scenario selected in this run has finished", target_fixture="examples")
def examples_of_this_run(request: pytest.FixtureRequest) -> RunExamples:
    cached = request.config.stash.get(_EXAMPLES, None)
    if cached is not None:
        return cached
    examples = request.config.stash[_EXAMPLES] = _collect_examples(request)
    _figure(request, f"examples: {examples.summary()}, read after waiting {examples.waited:.2f} s")
    rows = ["outcome,feature,scenario,fixtures"]
    for r in examples.records:
        rows.append(",".join(f'"{v}"' for v in (r["outcome"], r["feature"], r["scenario"].replace('"', "'"), " ".join(r.get("fixtures") or []))))
    attach(request, "the run's scenarios and the fixtures they used", "\n".join(rows) + "\n", "csv")
    return examples


@then(parsers.parse('the fixture "{fixture}" is used by at least one passing example'))
def fixture_used(request, examples: RunExamples, fixture: str):
    assert fixture in examples.fixtures, f"the plugin registers no fixture named {fixture!r}"
    used = examples.passing_fixtures()
    if fixture not in used:
        why = examples.unproven(examples.fixtures[fixture])
        if why is not None:
            pytest.skip(f"not verified: {fixture} - {why}")
    assert fixture in used, f"no passing scenario uses {fixture!r} ({examples.summary()})"
    attach(request, f"examples using {fixture}", "\n".join(sorted(used[fixture])))


@then("every fixture the plugin registers is used by at least one passing example")
def every_fixture_used(request, examples: RunExamples):
    used = examples.passing_fixtures()
    registered = sorted(examples.fixtures)
    assert registered, "the plugin registers no fixture"
    attach(request, "fixtures and their passing examples", "\n".join(f"{n}: {len(used.get(n, []))}" for n in registered))
    unused = [name for name in registered if name not in used]
    not_verified = {name: why for name in unused if (why := examples.unproven(examples.fixtures[name]))}
    failing = [name for name in unused if name not in not_verified]
    assert not failing, f"no passing scenario uses: {_listed(failing, 12)}"
    if not_verified:
        pytest.skip(f"not verified: {_listed([f'{n} ({w})' for n, w in not_verified.items()], 6)}")


@then("every service has passing examples")
def every_service_has_examples(examples: RunExamples):
    passing = {m for s in examples.records if s["outcome"] == "passed" for m in s.get("markers") or []}
    missing = [name for name in SERVICE_MODULES if name not in passing]
    not_verified = {name: why for name in missing if (why := examples.unproven(name))}
    failing = [name for name in missing if name not in not_verified]
    assert not failing, f"no passing example for: {', '.join(failing)}"
    if not_verified:
        pytest.skip("not verified: " + "; ".join(not_verified.values()))


@then("no example failed")
def no_example_failed(examples: RunExamples):
    failed = [f"{s['feature']}: {s['scenario']} ({s['reason']})" for s in examples.records if s["outcome"] in ("failed", "error")]
    assert not failed, "failed examples: " + _listed(failed)


# --- Tests gracefully skip when services unavailable -----------------------------------------------------------


@given("no test service can be reached, each service pointing at a closed port", target_fixture="unreachable_env")
def unreachable_env() -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    for name in SERVICE_MODULES:
        definition = cfg.SERVICES[name]
        env[definition.connection_env] = definition.unreachable_url.format(port=free_port())  # nothing listens there
        env[definition.mode_setting.env] = "external"
    env["TEST_REQUIRE_SERVICES"] = None
    return env


_UNREACHABLE_RUNS = pytest.StashKey[dict]()


def _unreachable_run(request, unreachable_env, *args: str) -> NestedRun:
    """The service features run with no service reachable, once per run and arguments: the scenarios that give the
    same Given and When read the same nested run (each run takes seconds; its result would be the same)."""
    runs = request.config.stash.setdefault(_UNREACHABLE_RUNS, {})
    if args not in runs:
        pytester: pytest.Pytester = request.getfixturevalue("pytester")
        runs[args] = run_service_features(pytester, Path(request.config.rootpath), unreachable_env, *args)
    return runs[args]


@when("the service features are run", target_fixture="nested")
def run_unreachable(request, unreachable_env) -> NestedRun:
    run = _unreachable_run(request, unreachable_env)
    _attach_run(request, "service features, no service reachable", run)
    return run


@when("the service features are run with the services required", target_fixture="nested")
def run_unreachable_strict(request, unreachable_env) -> NestedRun:
    run = _unreachable_run(request, unreachable_env, "--require-services")
    _attach_run(request, "service features, no service reachable, --require-services", run)
    return run


def _settings_named(scenario: dict) -> list[str]:
    return [cfg.SERVICES[m].connection_env for m in scenario.get("markers") or [] if m in cfg.SERVICES]


@then("every service scenario is skipped")
def all_skipped(nested: NestedRun):
    scenarios = nested.service_scenarios()
    assert scenarios, "the service features hold no scenario marked with a service"
    not_skipped = [f"{s['scenario']}: {s['outcome']}" for s in scenarios if s["outcome"] != "skipped"]
    assert not not_skipped, "not skipped: " + _listed(not_skipped)
    assert nested.result.ret == 0, f"a run of skips must succeed, exit status was {nested.result.ret}"


@then("each skip message names the setting of its service")
def skip_names_setting(nested: NestedRun):
    unnamed = [
        f"{s['scenario']}: {s['reason']}"
        for s in nested.service_scenarios()
        if not any(setting in s["reason"] for setting in _settings_named(s))
    ]
    assert not unnamed, "skip messages that name no setting: " + _listed(unnamed)


@then("each unreachable service was tried exactly once")
def tried_once(nested: NestedRun):
    needed = {m for s in nested.service_scenarios() for m in s.get("markers") or [] if m in SERVICE_MODULES}
    assert needed, "no service scenario ran"
    attempts = {name: nested.probes.attempts.get(name, 0) for name in sorted(needed)}
    assert all(count == 1 for count in attempts.values()), f"provisioning attempts per service: {attempts}"


@then("the time the whole run took is reported")
def run_time_reported(request, nested: NestedRun):
    skipped = nested.count("skipped")
    assert skipped and nested.elapsed > 0
    _figure(
        request,
        f"graceful skip: {skipped} service scenarios skipped in {nested.elapsed:.2f} s"
        f" ({len(nested.probes.attempts)} services, one attempt each)",
    )


@then("every service scenario fails with a message naming the setting of its service")
def all_fail_strict(nested: NestedRun):
    scenarios = nested.service_scenarios()
    assert scenarios, "the service features hold no scenario marked with a service"
    wrong = [
        f"{s['scenario']}: {s['outcome']} ({s['reason']})"
        for s in scenarios
        if s["outcome"] not in ("failed", "error") or not any(x in s["reason"] for x in _settings_named(s))
    ]
    assert not wrong, "not failed with a message naming the setting: " + _listed(wrong)


@then("the run ends with a failing exit status")
def failing_exit(nested: NestedRun):
    assert nested.result.ret == pytest.ExitCode.TESTS_FAILED, f"exit status {nested.result.ret}"


# --- Docker Compose configuration for test services ------------------------------------------------------------


def _default(env: str) -> str:
    for _service, setting in cfg.all_settings():
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
    import json

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
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("Docker Compose (the docker compose plugin) is not installed here: docker compose config could not be run")
    done = subprocess.run(
        [docker, "compose", "-f", str(compose["path"]), "config", "--quiet"], capture_output=True, text=True, timeout=60
    )
    attach(request, "docker compose config", (done.stdout + done.stderr) or "accepted")
    assert done.returncode == 0, f"docker compose config rejected {COMPOSE_FILE}: {done.stderr.strip()[:500]}"


# --- Comprehensive documentation -------------------------------------------------------------------------------


def _committed_reference(request) -> str:
    path = Path(request.config.rootpath) / reference.DEFAULT_OUTPUT
    assert path.is_file(), f"{reference.DEFAULT_OUTPUT} is missing: run python -m narrative_fixtures.reference --write"
    return path.read_text(encoding="utf-8")


@when("the fixture reference is generated from the plugin", target_fixture="generated_reference")
def generate_reference() -> str:
    return reference.render()


@then("it is identical to the committed docs/fixtures.md")
def reference_current(request, generated_reference: str):
    committed = _committed_reference(request)
    if committed != generated_reference:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True), generated_reference.splitlines(keepends=True),
                "docs/fixtures.md (committed)", "docs/fixtures.md (generated)",
            )
        )  # fmt: skip
        attach(request, "what changed", diff)
        pytest.fail(
            f"{reference.DEFAULT_OUTPUT} is stale ({diff.count(chr(10))} diff lines):"
            " run python -m narrative_fixtures.reference --write",
            pytrace=False,
        )


@then("every fixture the plugin registers is described in the fixture reference")
def fixtures_documented(request):
    committed = _committed_reference(request)
    registered = plugin_fixtures(request.session)
    assert registered, "the plugin registers no fixture"
    missing = [name for name in registered if f"#### `{name}`" not in committed]
    assert not missing, f"not in {reference.DEFAULT_OUTPUT}: {', '.join(missing)}"


@then("every fixture the plugin registers has a docstring of one to three lines")
def fixture_docstrings(request):
    docs = {doc.name: doc for doc in reference.discover()}
    registered = plugin_fixtures(request.session)
    wrong = []
    for name in registered:
        doc = docs.get(name)
        lines = len(doc.doc_lines) if doc else 0
        if not 1 <= lines <= 3:
            wrong.append(f"{name} ({lines} lines)")
    assert not wrong, "fixtures whose docstring is not 1-3 lines: " + ", ".join(wrong)


@then("every setting's environment variable and command-line option appear in the fixture reference")
def settings_documented(request):
    committed = _committed_reference(request)
    missing = []
    for service, setting in cfg.all_settings():
        if setting.env and f"`{setting.env}`" not in committed:
            missing.append(setting.env)
        if f"`{setting.option(service)}`" not in committed:
            missing.append(setting.option(service))
    assert not missing, f"not in {reference.DEFAULT_OUTPUT}: {', '.join(missing)}"
