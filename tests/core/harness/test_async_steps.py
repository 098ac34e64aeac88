"""The pytest-bdd async-step trap: an ``async def`` step must fail its scenario, never pass silently."""

from __future__ import annotations

FEATURE = """
Feature: Trap
  Scenario: A step that checks something
    Given a check that fails
"""

ASYNC_STEP = """
from pytest_bdd import given, scenarios

scenarios("trap.feature")

@given("a check that fails")
async def failing_check():
    raise AssertionError("this assertion must not be lost")
"""

SYNC_STEP_VIA_HARNESS = """
from pytest_bdd import given, scenarios

scenarios("trap.feature")

async def check():
    raise AssertionError("this assertion must not be lost")

@given("a check that fails")
def failing_check(run_async):
    run_async(check())
"""


def run_feature(project, steps: str, *args: str):
    project.makefile(".feature", trap=FEATURE)
    project.makepyfile(test_trap=steps)
    return project.runpytest_inprocess("-p", "no:randomly", *args)


def test_an_async_step_fails_the_scenario(project):
    result = run_feature(project, ASYNC_STEP)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AsyncStepError: step 'Given a check that fails' is 'async def'*never awaits it*"])


def test_without_the_guard_the_unawaited_coroutine_still_fails(project):
    # Even if the guard were unregistered, RuntimeWarning-as-error catches the never-awaited coroutine.
    result = run_feature(project, ASYNC_STEP, "-p", "no:narrative_fixtures.bdd")
    assert result.ret != 0
    assert "never awaited" in result.stdout.str()


def test_run_async_propagates_the_failure(project):
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = session\nfilterwarnings = error::RuntimeWarning\n")
    result = run_feature(project, SYNC_STEP_VIA_HARNESS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: this assertion must not be lost*"])


def test_run_async_returns_results_on_one_session_loop(project):
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = session\n")
    project.makepyfile(
        """
        import asyncio

        loops = []

        async def current_loop():
            return asyncio.get_running_loop()

        def test_one(run_async, session_event_loop):
            loops.append(run_async(current_loop()))
            assert loops[-1] is session_event_loop

        def test_two(run_async):
            loops.append(run_async(current_loop()))
            assert loops[0] is loops[1]
        """
    )
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)
