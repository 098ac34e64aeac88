"""What a pytest run tells the sign-off: scenarios and their outcomes, services, secrets to mask, git, coverage.

Shared by the sign-off recorder (:mod:`reports.signoff.plugin`), the Allure labels (``steps/allure_labels.py``) and
the acceptance steps that run nested pytest sessions (``steps/acceptance.py``).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from narrative_fixtures.core.masking import mask

from .checklist import criterion_for, task_title
from .model import one_line


def scenario_template(item: pytest.Item):
    """The pytest-bdd scenario behind a test item, or None for a plain test."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry
    except ImportError:  # pragma: no cover - pytest-bdd not installed
        return None
    obj = getattr(item, "obj", None)
    if obj is None:
        return None
    try:
        return scenario_wrapper_template_registry.get(obj)
    except TypeError:  # not weak-referenceable
        return None


def labels_of(item: pytest.Item) -> dict[str, str]:
    """The ``key:value`` Gherkin tags of an item (``label`` marks set by the root conftest), nearest first."""
    labels: dict[str, str] = {}
    for mark in item.iter_markers("label"):
        if len(mark.args) == 2:
            labels.setdefault(str(mark.args[0]), str(mark.args[1]))
    return labels


def scenario_meta(item: pytest.Item) -> dict | None:
    """Feature title, scenario name, tags and the checklist item of a pytest-bdd scenario (None otherwise)."""
    template = scenario_template(item)
    if template is None:
        return None
    feature = template.feature
    labels = labels_of(item)
    criterion = criterion_for(labels, feature.name)
    name = template.name
    example = getattr(item, "callspec", None)
    if example is not None and "_pytest_bdd_example" in example.params:
        values = example.params["_pytest_bdd_example"] or {}
        if values:
            try:
                rendered = template.render(values).name
            except Exception:  # noqa: BLE001 - a name is only cosmetic
                rendered = name
            suffix = " [" + ", ".join(f"{key}={value}" for key, value in values.items()) + "]"
            name = rendered if rendered != name else name + suffix
    return {
        "feature": feature.name,
        "feature_file": feature.rel_filename,
        "scenario": name,
        "labels": labels,
        "criterion": criterion.key if criterion else None,
        "task": task_title(labels.get("task")),
        "markers": sorted({mark.name for mark in item.iter_markers() if not mark.args and not mark.kwargs}),
    }


def fixtures_used(item: pytest.Item) -> list[str]:
    """Every fixture the item used, including those its steps requested at run time (pytest-bdd steps do)."""
    request = getattr(item, "_request", None)
    names = getattr(request, "fixturenames", None) if request else None
    return sorted(set(names or getattr(item, "fixturenames", [])))


def _in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def plugin_fixtures(session: pytest.Session, package: str = "narrative_fixtures") -> list[str]:
    """The public fixtures the plugin registers (defined in a module of ``package``), as pytest sees them."""
    return sorted(plugin_fixture_modules(session, package))


def plugin_fixture_modules(session: pytest.Session, package: str = "narrative_fixtures") -> dict[str, str]:
    """Public fixture name -> the module of ``package`` that defines it, as pytest sees them.

    Asks pytest's fixture manager (its API for this is internal and moved between versions); falls back to the
    fixture definitions of the plugin modules registered with the plugin manager.
    """
    manager = session._fixturemanager  # noqa: SLF001 - the only complete list of registered fixtures
    definitions = None
    if hasattr(manager, "_get_all_fixture_defs"):  # pytest >= 9
        definitions = list(manager._get_all_fixture_defs())  # noqa: SLF001
    elif hasattr(manager, "_arg2fixturedefs"):  # pytest 8
        definitions = [d for defs in manager._arg2fixturedefs.values() for d in defs]  # noqa: SLF001
    modules: dict[str, str] = {}
    if definitions is not None:
        for definition in definitions:
            module = getattr(definition.func, "__module__", "") or ""
            if _in_package(module, package):
                modules[definition.argname] = module
    else:  # pragma: no cover - a pytest whose fixture manager we do not know
        for plugin in session.config.pluginmanager.get_plugins():
            module = getattr(plugin, "__name__", "") or ""
            if _in_package(module, package):
                for attribute, obj in vars(plugin).items():
                    marker = getattr(obj, "_fixture_function_marker", None) or getattr(obj, "_pytestfixturefunction", None)
                    if marker is not None:
                        modules[getattr(marker, "name", None) or attribute] = module
    return {name: module for name, module in modules.items() if not name.startswith("_")}


# --- secrets ---------------------------------------------------------------------------------------------------


def _registry(config: pytest.Config):
    """The run's service registry (from the narrative_fixtures plugin), or None when the plugin is not active."""
    try:
        from narrative_fixtures.services.common import REGISTRY_KEY
    except ImportError:  # pragma: no cover
        return None
    return config.stash.get(REGISTRY_KEY, None)


def known_secrets(config: pytest.Config) -> list[str]:
    """Every secret this run knows (see :func:`narrative_fixtures.report_masking.known_secrets`)."""
    from narrative_fixtures.report_masking import known_secrets as plugin_known_secrets

    return plugin_known_secrets(config)


# --- services --------------------------------------------------------------------------------------------------


def services_info(config: pytest.Config) -> list[dict]:
    """Mode, backend, version and (masked) address of each service; why it was unavailable, if it was."""
    registry = _registry(config)
    if registry is None:
        return []
    secrets = known_secrets(config)
    running = registry.running()
    services = []
    for name, service in registry.settings.services.items():
        endpoint = running.get(name)
        if endpoint is not None:
            services.append(
                {
                    "name": name,
                    "status": "used",
                    "mode": endpoint.mode,
                    "backend": endpoint.backend,
                    "version": endpoint.version,
                    "url": mask(endpoint.masked_url, secrets) or "",
                    "started_in": endpoint.started_in,
                }
            )
            continue
        failure = registry.failure(name)
        services.append(
            {
                "name": name,
                "status": "unavailable" if failure else "not used",
                "mode": service.mode,
                "backend": service.definition.embedded_backend if service.mode == "embedded" else "",
                "version": "",
                "url": "",
                "started_in": None,
                "reason": one_line(mask(str(failure), secrets)) if failure else "",
            }
        )
    return services


# --- the repository --------------------------------------------------------------------------------------------


def git_info(rootdir: Path) -> dict:
    """The commit the run tested, and whether the work tree had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(rootdir), *args], capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit or "unknown",
        "short": (commit or "unknown")[:10],
        "branch": git("rev-parse", "--abbrev-ref", "HEAD") or "",
        "dirty": bool(status),
    }


# --- coverage --------------------------------------------------------------------------------------------------


def write_coverage(config: pytest.Config, path: Path, started: float) -> dict:
    """Make ``path`` hold this run's coverage JSON report, and say how it was measured.

    Under ``coverage run -m pytest`` the running Coverage object writes it now (the whole process is measured,
    plugin import included). Under pytest-cov its own ``--cov-report=json:...`` file is used when written by this
    run; pytest-cov starts after pytest loads plugins, so module-level lines of the plugin count as missed.
    """
    try:
        import coverage
    except ImportError:  # pragma: no cover
        return {"source": "not collected", "path": None}
    current = coverage.Coverage.current()
    if current is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            current.json_report(outfile=str(path))
        except coverage.CoverageException as error:
            return {"source": f"not collected ({one_line(str(error))})", "path": None}
        branch = current.get_option("run:branch")
        return {"source": f"coverage run ({'statements and branches' if branch else 'statements'})", "path": str(path)}
    requested = getattr(config.option, "cov_report", None) or {}
    json_path = requested.get("json") if isinstance(requested, dict) else None
    if "json" in (requested or {}):
        candidate = Path(json_path or "coverage.json")
        candidate = candidate if candidate.is_absolute() else Path(config.invocation_params.dir) / candidate
        if candidate.exists() and candidate.stat().st_mtime >= started - 1:
            branch = bool(getattr(config.option, "cov_branch", False))
            return {
                "source": f"pytest-cov ({'statements and branches' if branch else 'statements'};"
                " plugin import not measured)",
                "path": str(candidate),
            }
    return {"source": "not collected", "path": None}


def now_iso(timestamp: float | None = None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(timestamp or time.time()))
