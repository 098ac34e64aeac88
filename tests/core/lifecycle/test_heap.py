"""The run's long-lived objects leave the cyclic garbage collector's walk (core.heap), and nothing else changes."""

from __future__ import annotations

import pytest

from narrative_fixtures.core import heap

# One module run in a fresh interpreter (subprocess): the first test sees what collection left frozen, the second
# makes cyclic garbage, the third checks a collection still frees it (the tests' garbage is never frozen).
FROZEN_PROBE = """
import gc, weakref

freed = []


class Cycle:
    def __init__(self):
        self.me = self


def test_frozen_after_collection():
    print(f"FROZEN-AT-FIRST-TEST {gc.get_freeze_count()}")


def test_makes_cyclic_garbage():
    cycle = Cycle()
    weakref.finalize(cycle, freed.append, "cycle")
    del cycle


def test_that_garbage_is_collected():
    gc.collect()
    assert freed == ["cycle"]
"""


def frozen_at_first_test(result: pytest.RunResult) -> int:
    line = next(line for line in result.outlines if "FROZEN-AT-FIRST-TEST" in line)
    return int(line.split("FROZEN-AT-FIRST-TEST")[1].split()[0])


def test_a_run_freezes_what_collection_left_and_still_collects_the_tests_garbage(project):
    project.makepyfile(test_probe=FROZEN_PROBE)
    result = project.runpytest_subprocess("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert frozen_at_first_test(result) > 1000  # the imported plugins and collected items: thousands of objects


def test_turned_off_nothing_is_frozen(project):
    project.makepyfile(test_probe=FROZEN_PROBE)
    project._monkeypatch.setenv("TEST_GC_FREEZE", "0")
    result = project.runpytest_subprocess("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert frozen_at_first_test(result) == 0


def test_a_value_that_is_not_a_switch_is_one_line_naming_the_setting(project):
    project.makepyfile(test_probe=FROZEN_PROBE)
    project._monkeypatch.setenv("TEST_GC_FREEZE", "sometimes")
    result = project.runpytest_subprocess("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if "TEST_GC_FREEZE" in line]
    assert len(errors) == 1 and "sometimes" in errors[0], result.errlines
    assert "Traceback" not in result.stderr.str()


IMPORT_PROBE = """
import gc

counts = {}


def test_first():
    counts["first"] = gc.get_freeze_count()


def test_imports_a_library():
    import probe_library  # noqa: F401 - what a fixture's lazily imported client library does


def test_after_the_import():
    counts["after"] = gc.get_freeze_count()
    print(f"FROZEN-GREW-BY {counts['after'] - counts['first']}")
"""


def test_what_a_test_imported_is_frozen_after_it(project):
    project.makepyfile(probe_library="TABLE = [{'row': [n]} for n in range(5000)]\n", test_probe=IMPORT_PROBE)
    result = project.runpytest_subprocess("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    grew = int(next(line for line in result.outlines if "FROZEN-GREW-BY" in line).split()[-1])
    assert grew >= 10000  # the library's 5000 rows (a dict and a list each) left the collector's walk


def test_only_the_outermost_session_freezes():
    outer, nested = object(), object()
    claimed = heap._outermost  # this (outer) run's claim, given back after the test
    heap._outermost = None
    try:
        assert heap.claim_outermost(outer)
        assert not heap.claim_outermost(nested)  # an in-process nested run (pytester) inside it
        assert heap.is_outermost(outer) and not heap.is_outermost(nested)
        assert not heap.release_outermost(nested)
        assert heap.release_outermost(outer) and not heap.is_outermost(outer)
    finally:
        heap._outermost = claimed
