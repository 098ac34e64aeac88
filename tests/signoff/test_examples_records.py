"""The examples criterion reads the records of its own run: ordered last, across xdist workers, selection-aware.

Each test runs the real examples feature with the Redis feature in a pytest subprocess (embedded Redis), so
nothing but Redis is selected: Redis' fixtures must be verified, the other services' reported as NOT verified.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.chdir()
    return pytester.runpytest_subprocess(
        str(ROOT / "features" / "test_examples.py"), str(ROOT / "features" / "test_redis.py"),
        "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider",
        "-v", "-rs", "--require-services", *args,
        timeout=240,
    )  # fmt: skip


def _check(result: pytest.RunResult) -> None:
    out = result.stdout.str()
    assert result.ret == 0, out[-3000:]
    for fixture in ("redis_client", "test_redis_job"):
        verified = [line for line in result.stdout.lines if f"example[{fixture}]" in line and "PASSED" in line]
        assert verified, f"{fixture} not verified by the Redis scenarios:\n{out[-3000:]}"
    for fixture, service in (("setup_database", "mongodb"), ("test_s3_bucket", "s3"), ("mock_openai", "openai")):
        result.stdout.fnmatch_lines([f"*not verified: {fixture} - no {service} scenario was selected in this run*"])
    assert "failed" not in out.splitlines()[-1]


def test_examples_run_last_in_a_shuffled_order_and_judge_only_the_selected_services(pytester: pytest.Pytester):
    result = _run(pytester, "-p", "randomly", "-p", "no:xdist")
    _check(result)
    ran = [line for line in result.stdout.lines if "::" in line and line.rstrip().endswith("]")]
    order = ["examples" if "test_examples.py::" in line else "redis" for line in ran]
    assert "redis" in order and order == sorted(order, key=lambda kind: kind == "examples"), order


def test_under_xdist_the_examples_read_every_workers_records(pytester: pytest.Pytester):
    result = _run(pytester, "-n", "2", "-p", "no:randomly")
    _check(result)
    result.stdout.fnmatch_lines(["*gw0*", "*gw1*"])
