"""The mutation run end to end on a planted weak test: the report names the mutant the test lets through.

A project of one module (``weaklib.pricing``) and one test that checks a discount of 0 % only: mutating the
subtraction or the divisor goes unnoticed, so the run must list those survivors with file, line and change.
"""

from __future__ import annotations

import json
import sys

import pytest

PRICING = '''
def discounted(price, percent):
    """The price after a discount of ``percent`` percent."""
    return price - price * percent / 100
'''

WEAK_TEST = '''
from weaklib.pricing import discounted


def test_no_discount_keeps_the_price():
    assert discounted(100, 0) == 100
'''


@pytest.fixture
def weak_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[project]\nname = "weak"\nversion = "0"\n')
    package = pytester.mkdir("src") / "weaklib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pricing.py").write_text(PRICING)
    pytester.mkdir("tests").joinpath("test_pricing.py").write_text(WEAK_TEST)
    pytester._monkeypatch.setenv("PYTHONPATH", str(pytester.path / "src"))
    pytester._monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    return pytester


EQUIVALENT = """
[[equivalent]]
file = "src/weaklib/pricing.py"
function = "discounted"
change = "return price - price * percent / 100  ->  return price - price * percent / 101"
reason = "planted: pretend the divisor cannot matter"
"""


def test_the_report_names_the_mutant_a_weak_test_lets_through(weak_project, tmp_path):
    """One run (mutmut's start-up is most of its time): a survivor named, a reviewed equivalent counted apart."""
    (weak_project.path / "mutation-equivalents.toml").write_text(EQUIVALENT)
    result = weak_project.run(
        sys.executable, "-m", "narrative_fixtures.mutation", "weaklib.pricing", "--tests", "tests/test_pricing.py",
        "--out", str(weak_project.path / "reports"), "--work", str(tmp_path / "work"), "--timeout", "300",
        timeout=600,
    )
    assert result.ret == 0, result.stderr.str()
    report = json.loads((weak_project.path / "reports" / "mutation.json").read_text())
    custom = report["criteria"]["custom"]
    assert custom["complete"] and custom["killed"] >= 1
    survivors = {(s["file"], s["line"], s["change"]) for s in custom["survivors"]}
    assert ("src/weaklib/pricing.py", 4, "return price - price * percent / 100  ->  "
            "return price + price * percent / 100") in survivors
    assert custom["modules"]["weaklib.pricing"]["survived"] == custom["survived"] >= 1
    listed = (weak_project.path / "reports" / "mutation.md").read_text()
    assert "`src/weaklib/pricing.py:4` | `discounted` | survived" in listed
    assert custom["equivalent"] == 1 and custom["judged"] == custom["total"] - 1
    assert [e["reason"] for e in custom["equivalents"]] == ["planted: pretend the divisor cannot matter"]
    assert custom["score"] == round(100.0 * custom["detected"] / custom["judged"], 1)


# --- the selection plugin's speed-ups (narrative_fixtures.mutation.selection) ---------------------------------------

JANITOR_MUTANT = "pkg.services.redis.janitor.xǁRedisJanitorǁ_check__mutmut_18"


class Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid

    def __repr__(self) -> str:
        return self.nodeid


def test_a_mutant_runs_its_module_s_self_tests_first_then_the_rest_the_quickest_first(tmp_path):
    from narrative_fixtures.mutation.order import likeliest_first

    durations = {
        "features/test_redis.py::test_scenario": 0.1,
        "tests/services/redis/test_redis_janitor.py::test_slow": 2.0,
        "tests/services/redis/test_redis_janitor.py::test_quick": 0.5,
        "tests/services/redis/test_redis_provider.py::test_quickest": 0.05,
    }
    items = [Item(name) for name in ["tests/unrecorded.py::test_new", *durations]]
    ordered = [item.nodeid for item in likeliest_first(items, durations, JANITOR_MUTANT, str(tmp_path))]
    assert ordered == [
        "tests/services/redis/test_redis_janitor.py::test_quick",
        "tests/services/redis/test_redis_janitor.py::test_slow",
        "tests/services/redis/test_redis_provider.py::test_quickest",
        "features/test_redis.py::test_scenario",
        "tests/unrecorded.py::test_new",
    ]
    unrecorded = [item.nodeid for item in likeliest_first(items, {}, JANITOR_MUTANT, str(tmp_path))]
    assert unrecorded[:2] == ["tests/services/redis/test_redis_janitor.py::test_slow",
                              "tests/services/redis/test_redis_janitor.py::test_quick"], "no record: file order"


def test_the_test_that_killed_a_mutant_of_the_same_function_runs_first_in_the_next_mutant_s_session(tmp_path):
    from narrative_fixtures.mutation.order import known_killer, likeliest_first, remember_killer

    items = [Item("tests/services/redis/test_redis_janitor.py::test_quick"), Item("features/test_redis.py::test_a")]
    assert known_killer(JANITOR_MUTANT, str(tmp_path)) is None
    remember_killer(JANITOR_MUTANT, "features/test_redis.py::test_a", str(tmp_path))
    sibling = JANITOR_MUTANT.replace("__mutmut_18", "__mutmut_19")
    other_function = JANITOR_MUTANT.replace("_check__", "_parse__")
    assert known_killer(sibling, str(tmp_path)) == "features/test_redis.py::test_a"
    assert known_killer(other_function, str(tmp_path)) is None
    assert [i.nodeid for i in likeliest_first(items, {}, sibling, str(tmp_path))][0] == "features/test_redis.py::test_a"
    assert [i.nodeid for i in likeliest_first(items, {}, other_function, str(tmp_path))][0].endswith("test_quick")
    remember_killer(sibling, "tests/services/redis/test_redis_janitor.py::test_quick", str(tmp_path))
    assert known_killer(JANITOR_MUTANT, str(tmp_path)).endswith("test_quick"), "the last killer replaces the first"


def test_the_durations_come_from_mutmut_s_stats_and_a_missing_or_broken_record_orders_nothing(tmp_path):
    from narrative_fixtures.mutation.order import STATS_FILE, recorded_durations

    assert recorded_durations(str(tmp_path)) == {}
    (tmp_path / STATS_FILE).write_text("{not json")
    assert recorded_durations(str(tmp_path)) == {}
    (tmp_path / STATS_FILE).write_text(json.dumps({"duration_by_test": {"a::t": 0.25, "b::t": "slow"}}))
    assert recorded_durations(str(tmp_path)) == {"a::t": 0.25}


def test_a_factory_mutant_forgets_its_service_package_and_the_project_s_tests_but_not_the_rest(tmp_path, monkeypatch):
    """A fresh import of what may call the factories at import time; the rest of the package stays imported."""
    import types

    from narrative_fixtures.mutation.selection import forget_modules_for

    files = {
        "pkg": "mutants/src/pkg/__init__.py",
        "pkg.core.settings": "mutants/src/pkg/core/settings.py",
        "pkg.services.redis": "mutants/src/pkg/services/redis/__init__.py",
        "pkg.services.redis.factories": "mutants/src/pkg/services/redis/factories.py",
        "pkg.services.redisx": "mutants/src/pkg/services/redisx/__init__.py",
        "pkg.services.s3.factories": "mutants/src/pkg/services/s3/factories.py",
        "tests.services.redis.test_redis_factories": "mutants/tests/services/redis/test_redis_factories.py",
        "steps.redis": "mutants/steps/redis.py",
        "conftest": "mutants/conftest.py",
    }
    for name, path in files.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(__file__=str(tmp_path / path)))
    monkeypatch.setitem(sys.modules, "elsewhere", types.SimpleNamespace(__file__=str(tmp_path.parent / "x.py")))
    forgotten = forget_modules_for("pkg.services.redis.factories.x_redis_client_factory__mutmut_3", str(tmp_path))
    assert sorted(forgotten) == ["conftest", "pkg.services.redis", "pkg.services.redis.factories", "steps.redis",
                                 "tests.services.redis.test_redis_factories"]
    kept = {"pkg", "pkg.core.settings", "pkg.services.redisx", "pkg.services.s3.factories", "elsewhere"}
    assert kept <= set(sys.modules) and not set(forgotten) & set(sys.modules)


def test_the_client_libraries_are_imported_outside_any_test_so_the_forked_sessions_share_them():
    from narrative_fixtures.core.catalog import service_specs
    from narrative_fixtures.mutation.selection import import_client_libraries

    imported = import_client_libraries()
    declared = {name for spec in service_specs().values() for name in spec.sdk_modules}
    assert "redis" in imported and set(imported) <= declared
    assert all(name in sys.modules for name in imported)


# --- a mutation run leaves no server behind ------------------------------------------------------------------------

STORE = '''
def key_for(name):
    """The Redis key of a job."""
    return "job:" + name
'''

STORE_TEST = '''
import os

import redis

from weaklib.store import key_for


def test_a_job_is_stored_under_its_key(redis_service):
    client = redis.Redis.from_url(redis_service.url)
    with open(os.environ["SERVER_PIDS"], "a") as pids:  # every forked session's own redis-server
        pids.write(f"{client.info()['process_id']}\\n")
    client.set(key_for("a"), 1)
    assert client.get("job:a") == b"1"
    client.close()
'''


def test_a_mutation_run_stops_every_server_its_forked_sessions_started(weak_project, tmp_path):
    """Each forked session (stats, clean run, one per mutant) starts its own embedded redis-server: all are gone
    when the run ends, and the mutants were judged with a server (killed, not skipped)."""
    import psutil

    (weak_project.path / "src" / "weaklib" / "store.py").write_text(STORE)
    weak_project.path.joinpath("tests", "test_store.py").write_text(STORE_TEST)
    pids = tmp_path / "server-pids"
    weak_project._monkeypatch.setenv("SERVER_PIDS", str(pids))
    result = weak_project.run(
        sys.executable, "-m", "narrative_fixtures.mutation", "weaklib.store", "--tests", "tests/test_store.py",
        "--out", str(weak_project.path / "reports"), "--work", str(tmp_path / "work"), "--timeout", "300",
        timeout=600,
    )
    assert result.ret == 0, result.stderr.str()
    custom = json.loads((weak_project.path / "reports" / "mutation.json").read_text())["criteria"]["custom"]
    assert custom["complete"] and custom["killed"] == custom["total"] >= 1
    started = {int(line) for line in pids.read_text().split()}
    assert len(started) >= 1 + custom["total"], "a server of its own for each mutant's session"
    left = [pid for pid in started if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"redis-server processes left running after the mutation run: {left}"


# --- --again (narrative_fixtures.mutation.workspace.refresh_tests) --------------------------------------------------


def test_again_brings_the_package_s_other_modules_along_and_refuses_a_mutated_module_that_changed(tmp_path, monkeypatch):
    from narrative_fixtures.mutation.targets import Target
    from narrative_fixtures.mutation.workspace import prepare, refresh_tests

    root = tmp_path / "project"
    package = root / "src" / "againlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "pricing.py").write_text(PRICING)
    (package / "text.py").write_text("def listed(items):\n    return ', '.join(items)\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_pricing.py").write_text(WEAK_TEST.replace("weaklib", "againlib"))
    (root / "pyproject.toml").write_text('[project]\nname = "again"\nversion = "0"\n')
    monkeypatch.syspath_prepend(str(root / "src"))
    target = Target("custom", ["againlib.pricing"], ["tests/test_pricing.py"])
    copy = prepare(root, tmp_path / "work", target)
    (copy / "mutants" / "src" / "againlib").mkdir(parents=True)  # what mutmut's first run leaves
    (package / "text.py").write_text("def listed(items):\n    return ' / '.join(items)\n")  # changed since
    (package / "added.py").write_text("ADDED = True\n")  # added since: a new test may import it
    refresh_tests(root, tmp_path / "work", target)
    for base in (copy / "src" / "againlib", copy / "mutants" / "src" / "againlib"):
        assert (base / "added.py").read_text() == "ADDED = True\n"
        assert "' / '" in (base / "text.py").read_text()
    (package / "pricing.py").write_text(PRICING.replace("100", "101"))  # the mutated module itself changed
    with pytest.raises(SystemExit, match=r"againlib/pricing.py changed since the run in .*: measure it again"):
        refresh_tests(root, tmp_path / "work", target)
