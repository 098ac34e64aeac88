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
