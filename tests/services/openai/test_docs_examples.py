"""The examples of ``docs/openai-fake.md`` run as the tests they are, against the embedded fake: the docs cannot
drift from the fake. Every ``python`` block is a test module of its own in one nested run."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "openai-fake.md"
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)
TEST = re.compile(r"^(?:async )?def (test_\w+)", re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    """The ``python`` code blocks of a Markdown text, in order."""
    return [match["code"] for match in BLOCK.finditer(text)]


def test_every_example_is_a_test():
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 8, "an example per capability: chat, tools, streaming, Responses, embeddings, errors, records"
    assert all(TEST.search(block) for block in blocks), "a python block that is no test would never run"


def test_the_examples_pass_against_the_embedded_fake(project):
    blocks = python_blocks(DOC.read_text())
    project.makepyfile(**{f"test_example_{index}": block for index, block in enumerate(blocks)})
    result = project.runpytest_inprocess("-p", "no:randomly", "--require-services")
    expected = sum(len(TEST.findall(block)) for block in blocks)
    result.assert_outcomes(passed=expected)


def test_the_fixture_reference_links_the_guide():
    from narrative_fixtures import reference
    from narrative_fixtures.services.openai import fixtures

    title, path = fixtures.GUIDE
    assert f"Guide: [{title}]({path})" in reference.render()
    assert (DOC.parent / path).read_text().splitlines()[0] == f"# {title}"
