"""The core's text helpers: what a one-line failure message shows of a list."""

from __future__ import annotations

import pytest

from narrative_fixtures.core.text import listed


@pytest.mark.parametrize(
    ("items", "limit", "expected"),
    [
        ([], 5, ""),
        (["a"], 5, "a"),
        (["a", "b", "c"], 3, "a; b; c"),  # exactly the limit: nothing more to count
        (["a", "b", "c", "d"], 3, "a; b; c (+1 more)"),
        ([f"s{n}" for n in range(20)], 2, "s0; s1 (+18 more)"),
    ],
)
def test_listed_shows_at_most_the_limit_then_how_many_more(items, limit, expected):
    assert listed(items, limit) == expected


def test_listed_shows_five_by_default():
    assert listed([str(n) for n in range(7)]) == "0; 1; 2; 3; 4 (+2 more)"


def test_the_steps_and_the_examples_judge_use_the_one_core_function():
    """``steps.nested.listed`` stays importable; it and the sign-off's examples judge are the core's function."""
    from narrative_fixtures.signoff import examples_judge
    from steps import nested

    assert nested.listed is listed and examples_judge.listed is listed

