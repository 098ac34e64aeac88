"""Allure labels, links, environment and categories for the acceptance spec (allure-pytest-bdd).

Gherkin tags ``key:value`` are ``label`` marks (root ``conftest.py``). At collection this plugin turns them into
Allure's behaviour hierarchy and metadata:

* epic ``Sprint 9`` > feature = the story task (``@task:3.2`` -> "Task 3.2: Redis Test Fixtures") > story = the
  acceptance criterion (the Feature title, i.e. the checklist item's wording);
* severity (``@severity:critical``, default normal), owner (``@owner:...``, default backend-team), the other
  ``key:value`` tags as labels of their own, and a link back to the story page (``NARRATIVE_STORY_URL``).

With ``--alluredir`` it also writes ``environment.properties`` (each service's mode, backend, version, masked
address) and ``categories.json`` (unavailable services / test defects / product defects), keeps fixture objects
out of step parameters, and finally masks every secret the run knows in the results directory.
Steps attach what a reader needs with :func:`attach` (masked, and a no-op without Allure).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from narrative_fixtures.core.masking import mask
from reports.signoff import collect
from reports.signoff.checklist import (
    DEFAULT_OWNER,
    DEFAULT_SEVERITY,
    EPIC,
    SEVERITIES,
    STORY_TITLE,
    criterion_for,
    task_title,
)

STORY_FILE = Path("docs") / "story-9.3.md"  # the copy of the story this spec signs off, kept in the repository
RESERVED = {"epic", "feature", "story", "severity", "owner"}

# Allure categories: first match wins. An unavailable service is neither a product nor a test defect.
CATEGORIES = [
    {
        "name": "Service unavailable (environment, not a defect)",
        "matchedStatuses": ["skipped", "failed", "broken"],
        "messageRegex": (
            r"(?s).*(unavailable|is turned off|cannot reach|not installed|did not become ready|no free port"
            r"|strict mode: --require-services).*"
        ),
    },
    {
        "name": "Configuration error (a setting to fix)",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"(?s).*\b(TEST_[A-Z_]+|S3_ENDPOINT_URL|AWS_[A-Z_]+|OPENAI_API_KEY)=.*",
    },
    {
        "name": "Refused: not a test target (nothing was touched)",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"(?s).*refusing.*",
    },
    {
        "name": "Test defects (broken step, fixture or undefined step)",
        "matchedStatuses": ["broken"],
    },
    {
        "name": "Product defects (a guarantee does not hold)",
        "matchedStatuses": ["failed"],
    },
]


def story_url(config: pytest.Config) -> str | None:
    """The story page: ``NARRATIVE_STORY_URL`` / ``--story-url`` if set, else docs/story-9.3.md in the repository."""
    try:
        from narrative_fixtures.services.common import settings_of

        configured = settings_of(config).values.get("story_url")
    except (ImportError, KeyError):
        configured = None
    if configured:
        return str(configured)
    story = (Path(config.rootpath) / STORY_FILE).resolve()
    return story.as_uri() if story.is_file() else None


def allure_labels(meta: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of one scenario from its ``scenario_meta`` (see :mod:`reports.signoff.collect`)."""
    tags = meta.get("labels") or {}
    criterion = criterion_for(tags, meta.get("feature"))
    labels = [("epic", EPIC)]
    task = task_title(tags.get("task"))
    if task:
        labels.append(("feature", task))
    labels.append(("story", criterion.text if criterion else meta.get("feature") or "unlinked scenarios"))
    severity = str(tags.get("severity", DEFAULT_SEVERITY)).lower()
    labels.append(("severity", severity if severity in SEVERITIES else DEFAULT_SEVERITY))
    labels.append(("owner", tags.get("owner", DEFAULT_OWNER)))
    labels.extend((key, value) for key, value in sorted(tags.items()) if key not in RESERVED)
    return labels


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    url = story_url(config)
    for item in items:
        meta = collect.scenario_meta(item)
        if meta is None:
            continue
        for name, value in allure_labels(meta):
            item.add_marker(pytest.mark.allure_label(value, label_type=name))
        if url:
            item.add_marker(pytest.mark.allure_link(url, name=STORY_TITLE, link_type="link"))


# --- the live Allure test case ---------------------------------------------------------------------------------


def _lifecycle(config: pytest.Config):
    """The Allure lifecycle of *this* run (None without ``--alluredir``, and in nested runs)."""
    try:
        from allure_pytest_bdd.pytest_bdd_listener import PytestBDDListener
    except ImportError:  # pragma: no cover - allure-pytest-bdd not installed
        return None
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, PytestBDDListener):
            return plugin.lifecycle
    return None


@pytest.hookimpl(trylast=True)
def pytest_bdd_before_step_call(request, feature, scenario, step, step_func, step_func_args):
    """Keep only the values parsed from the step's text as Allure step parameters (masked).

    allure-pytest-bdd reports every argument of the step function, fixtures included: a client's or an
    endpoint's repr is noise at best and can carry a password. Parsed values are plain scalars, not fixtures.
    """
    lifecycle = _lifecycle(request.config)
    if lifecycle is None:
        return
    from allure_pytest_bdd.steps import get_step_uuid

    fixtures = set(request.fixturenames)
    keep = {
        name
        for name, value in step_func_args.items()
        if isinstance(value, (str, int, float, bool)) and name not in fixtures
    }
    secrets = collect.known_secrets(request.config)
    with lifecycle.update_step(uuid=get_step_uuid(step)) as step_result:
        if step_result is None:
            return
        kept = [parameter for parameter in step_result.parameters if parameter.name in keep]
        for parameter in kept:
            parameter.value = mask(parameter.value, secrets)
        step_result.parameters = kept


def attach(request_or_config, name: str, body, kind: str = "text") -> None:
    """Attach ``body`` to the current Allure step/scenario, secrets masked. ``kind``: text, json, csv, html.

    A no-op without ``--alluredir`` and inside nested pytest runs (their results are not this run's).
    """
    config = getattr(request_or_config, "config", request_or_config)
    if _lifecycle(config) is None:
        return
    import allure

    if kind == "json" and not isinstance(body, str):
        body = json.dumps(body, indent=2, sort_keys=True, default=str)
    types = {
        "text": allure.attachment_type.TEXT,
        "json": allure.attachment_type.JSON,
        "csv": allure.attachment_type.CSV,
        "html": allure.attachment_type.HTML,
    }
    allure.attach(mask(str(body), collect.known_secrets(config)) or "", name=name, attachment_type=types[kind])


@pytest.fixture
def allure_attach(request: pytest.FixtureRequest):
    """A function ``allure_attach(name, body, kind="text")`` attaching to the current Allure step, secrets masked.

    Does nothing when the run writes no Allure results.
    """

    def _attach(name: str, body, kind: str = "text") -> None:
        attach(request, name, body, kind)

    return _attach


LOG_TAIL_LINES = 40


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """When a service scenario fails, attach the tail of that service's log (what a reader asks for first)."""
    report = yield
    if report.failed and report.when == "call" and _lifecycle(item.config) is not None:
        try:
            from narrative_fixtures.services.common import registry_of

            registry = registry_of(item.config)
        except (ImportError, KeyError):
            return report
        for marker in {mark.name for mark in item.iter_markers()} & set(registry.settings.services):
            if registry.owned(marker) is None:
                continue  # an external service: its log is not ours to read
            path = registry.context.log_path(marker)
            if path.is_file():
                lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                attach(item.config, f"{marker} log (last {len(lines)} lines)", "\n".join(lines))
    return report


# --- the results directory -------------------------------------------------------------------------------------


def results_dir(config: pytest.Config) -> Path | None:
    directory = getattr(config.option, "allure_report_dir", None)
    return Path(directory).resolve() if directory else None


def environment_properties(config: pytest.Config) -> dict[str, str]:
    """What ``environment.properties`` shows: the run and each service's mode, backend, version (masked)."""
    properties = {
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "platform": platform.platform(terse=True),
        "git.commit": collect.git_info(Path(config.rootpath))["short"],
    }
    for service in collect.services_info(config):
        prefix = f"service.{service['name']}"
        properties[f"{prefix}.mode"] = service["mode"]
        properties[f"{prefix}.status"] = service["status"]
        if service.get("backend"):
            properties[f"{prefix}.backend"] = service["backend"]
        if service.get("version"):
            properties[f"{prefix}.version"] = service["version"]
        if service.get("url"):
            properties[f"{prefix}.address"] = service["url"]
        if service.get("reason"):
            properties[f"{prefix}.reason"] = service["reason"]
    return properties


def _escape_property(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", " ")


def scrub_results(directory: Path, secrets: list[str]) -> int:
    """Mask every known secret, URL password and secret query parameter in the text files of an Allure results
    directory (``narrative_fixtures.core.masking.mask``); return how many files changed."""
    changed = 0
    for path in directory.iterdir():
        if not path.is_file() or path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webm", ".mp4", ".zip"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        masked = mask(text, secrets) or ""
        if masked != text:
            path.write_text(masked, encoding="utf-8")
            changed += 1
    return changed


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    directory = results_dir(config)
    if directory is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    directory.mkdir(parents=True, exist_ok=True)
    properties = environment_properties(config)
    (directory / "environment.properties").write_text(
        "".join(f"{key}={_escape_property(value)}\n" for key, value in properties.items()), encoding="utf-8"
    )
    (directory / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    scrub_results(directory, collect.known_secrets(config))
