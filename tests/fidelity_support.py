"""Helpers of the fidelity-guard self-tests (MongoDB on FerretDB, S3 on moto): what a nested run recorded, the modes
and the marker as a project meets them, and the tables' reproductions."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from narrative_fixtures.core.fidelity import USER_PROPERTY, DifferenceTable

ROOT = Path(__file__).resolve().parents[1]


def findings(project: pytest.Pytester) -> dict[str, list[str]]:
    """Each test's narrative_fidelity user properties, from the nested run's junit.xml."""
    tree = ET.parse(project.path / "junit.xml")
    return {case.get("name"): [p.get("value") for p in case.iter("property") if p.get("name") == USER_PROPERTY]
            for case in tree.iter("testcase")}


def operations(lines: list[str]) -> list[str]:
    """'<Service> fidelity: <operation>' of each finding line."""
    return [line.split(" on the stand-in")[0] for line in lines]


def assert_off_gives_nothing(project: pytest.Pytester, option: str, selection: str, tests: list[str]) -> None:
    """With ``option off`` the ``tests`` selected by ``-k selection`` pass with no warning and no finding."""
    result = project.runpytest_inprocess("-p", "no:randomly", option, "off", "-k", selection, "--junitxml=junit.xml")
    result.assert_outcomes(passed=len(tests))
    assert "FidelityWarning" not in result.stdout.str()
    assert findings(project) == {name: [] for name in tests}


def assert_marked_test_fails_in_strict_mode(project: pytest.Pytester, reason: str) -> None:
    """The test ``test_needs_server`` errors at setup under ``--require-services`` with ``reason`` and the mode."""
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services", "-k", "needs_server")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{reason} ?strict mode: --require-services?"])


def missing_reproductions(table: DifferenceTable) -> list[str]:
    """The operations of ``table`` whose reproduction names no test function of its file."""
    missing = []
    for difference in table.differences:
        path, name = difference.reproduction.split("::")
        tree = ast.parse((ROOT / path).read_text())
        names = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if name.split("[")[0] not in names:
            missing.append(difference.operation)
    return missing


def assert_fail_mode_fails_with_the_lines(project: pytest.Pytester, setting: str, selection: str, *, passed: int,
                                          failed: int, lines: list[str]) -> pytest.RunResult:
    """With ``setting=fail`` the tests selected by ``-k selection`` fail with ``lines`` (fnmatch), and none warns."""
    project._monkeypatch.setenv(setting, "fail")
    result = project.runpytest_inprocess("-p", "no:randomly", "-k", selection)
    result.assert_outcomes(passed=passed, failed=failed)
    result.stdout.fnmatch_lines(lines)
    assert "FidelityWarning" not in result.stdout.str()
    return result
