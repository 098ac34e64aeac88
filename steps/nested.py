"""Nested pytest runs for the acceptance steps: environment, SDK imports kept, the service features re-run.

A step that proves how a test run behaves (skips, strict failures, option handling) runs pytest inside pytest
(``pytester``, in-process) and reads the result through the sign-off's :class:`RunRecorder` and a probe counter.
"""

from __future__ import annotations

import importlib
import sys
import sysconfig
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from narrative_fixtures.core.catalog import service_specs
from narrative_fixtures.core.text import listed  # noqa: F401 - the steps import it from here
from narrative_fixtures.services.common import registry_of
from narrative_fixtures.signoff.allure_labels import attach
from narrative_fixtures.signoff.plugin import RunRecorder
from steps import installed_distributions

# The client libraries the plugin's fixtures import lazily. pytester's in-process runs drop every module first
# imported during the nested run, so each nested run would import them again (~0.3-1 s each): they are kept
# (keep_libraries_imported), or, where pytester cannot be told so, imported once beforehand (keep_sdk_imports).
SDK_MODULES = tuple(name for spec in service_specs().values() for name in spec.sdk_modules)
# As this project's ini: one Redis/MongoDB plugin at a time. pytest-redis and pytest-mongo (installed for the
# bench's comparisons) import mirakuru, which registers an exit handler in *this* interpreter at each import (a
# nested run imports it anew): 50 ms each at exit, and it SIGKILLs any process whose mirakuru mark contains this
# interpreter's pid, another run's servers included (see narrative_fixtures.core.processes).
PEER_PLUGINS_OFF = ("-p", "no:pytest_redis", "-p", "no:pytest_mongo")
STEP_MODULES = ("httpx",)  # what the steps themselves import at the top (steps/s3.py, the OpenAI steps): ~0.2 s


@contextmanager
def environment(**values: str | None):
    """Temporarily set (or, with None, unset) environment variables for a nested pytest run."""
    with pytest.MonkeyPatch.context() as patch:  # gives every variable back as it was, also when the run raises
        for key, value in values.items():
            if value is None:
                patch.delenv(key, raising=False)
            else:
                patch.setenv(key, value)
        yield


LIBRARY_DIRS = tuple(sorted({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}))


def _installed_library(name: str) -> bool:
    """True for a module of the standard library or of an installed distribution (never one of a nested run's own
    directory, nor of this repository: those are the modules pytester rightly drops)."""
    return (getattr(sys.modules.get(name), "__file__", None) or "").startswith(LIBRARY_DIRS)


def _snapshot_taker():
    """pytester's private maker of its ``sys.modules`` snapshots (None on a pytest without one)."""
    return getattr(pytest.Pytester, "_Pytester__take_sys_modules_snapshot", None)


def keep_libraries_imported() -> bool:
    """From now on, a library module first imported while a ``pytester`` lives (in its test or a nested in-process
    run) stays imported when pytester ends, as if the outer run had imported it: never imported twice (objects of
    the first copy living on, such as a cached boto3 session raising the first copy's ClientError, which the second
    copy's ``except ClientError`` does not catch), and never imported by a process whose tests do not use it (an
    xdist worker running no OpenAI scenario does not pay the SDK's import). True when pytester could be told."""
    take = _snapshot_taker()
    if take is None:  # pragma: no cover - another pytest: keep_sdk_imports imports the libraries beforehand
        return False
    if getattr(take, "keeps_libraries", False):
        return True
    from _pytest.pytester import SysModulesSnapshot

    def take_snapshot(self) -> SysModulesSnapshot:
        original = take(self)  # pytester's own rule (zope, readline), then the libraries
        kept = getattr(original, "_SysModulesSnapshot__preserve", None) or (lambda name: False)
        return SysModulesSnapshot(preserve=lambda name: kept(name) or _installed_library(name))

    take_snapshot.keeps_libraries = True
    pytest.Pytester._Pytester__take_sys_modules_snapshot = take_snapshot
    return True


def keep_sdk_imports() -> None:
    """Where pytester keeps no library (:func:`keep_libraries_imported` could not tell it), import the fixtures'
    client libraries in this (outer) process beforehand, so nested in-process runs reuse them."""
    if getattr(_snapshot_taker(), "keeps_libraries", False):
        return
    for name in (*SDK_MODULES, *STEP_MODULES):
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - an SDK this installation lacks: its fixtures skip on their own
            pass


def run_nested(pytester: pytest.Pytester, test_source: str, *args: str, **env: str | None):
    """Run a small test module in a nested pytest session (in-process) and return its RunResult."""
    keep_sdk_imports()
    pytester.makepyfile(test_nested=test_source)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error::RuntimeWarning\n"
    )
    with environment(**env), installed_distributions.remembered():
        return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *PEER_PLUGINS_OFF, *args)


# --- the service features, run again --------------------------------------------------------------------------


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
        return [s for s in self.scenarios() if set(s.get("markers") or []) & set(service_specs())]

    def count(self, outcome: str) -> int:
        return sum(s["outcome"] == outcome for s in self.scenarios())

    def summary(self) -> str:
        counts = {o: self.count(o) for o in ("passed", "failed", "error", "skipped") if self.count(o)}
        shown = ", ".join(f"{n} {o}" for o, n in counts.items()) or "no scenarios"
        return f"{len(self.scenarios())} scenarios ({shown}) in {self.elapsed:.2f} s"


def service_feature_files(rootdir: Path) -> list[Path]:
    """The feature test modules of the services the plugin has (``features/test_<service>.py``)."""
    return [path for name in service_specs() if (path := rootdir / "features" / f"test_{name}.py").exists()]


def run_service_features(pytester: pytest.Pytester, rootdir: Path, env: dict[str, str | None], *args: str) -> NestedRun:
    """The service features run in-process with ``env`` set, recorded scenario by scenario, provisioning counted."""
    files = service_feature_files(rootdir)
    assert files, f"no service features under {rootdir / 'features'}"
    recorder, probes = RunRecorder(), ProbeCounter()
    keep_sdk_imports()
    with environment(**env), installed_distributions.remembered():
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


# --- what a step reports ---------------------------------------------------------------------------------------


def report_figure(request: pytest.FixtureRequest, text: str) -> None:
    """A figure a step measured: printed (captured output) and attached to the Allure step."""
    print(text)
    attach(request, "figure", text)


def attach_csv(request: pytest.FixtureRequest, name: str, header: tuple[str, ...], rows) -> None:
    """Attach rows of values as a CSV table (quotes in values become apostrophes)."""
    lines = [",".join(header)]
    lines += [",".join(f'"{str(value).replace(chr(34), chr(39))}"' for value in row) for row in rows]
    attach(request, name, "\n".join(lines) + "\n", "csv")


def attach_run(request: pytest.FixtureRequest, name: str, run: NestedRun) -> None:
    """Attach a nested run's scenarios (outcome, feature, scenario, note) as a CSV table."""
    rows = [(s["outcome"], s["feature"], s["scenario"], s["reason"]) for s in run.scenarios()]
    attach_csv(request, name, ("outcome", "feature", "scenario", "note"), rows)
