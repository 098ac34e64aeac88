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


def doc_section(title: str) -> str:
    """The text of the guide's ``## <title>`` section, up to the next ``## ``."""
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def test_every_attribute_of_the_endpoint_is_documented():
    from narrative_fixtures.core.registry import Endpoint
    from narrative_fixtures.services.openai.endpoint import OpenAIEndpoint

    # a mutation run's copy adds mutmut's trampolines (xǁOpenAIEndpointǁ<method>__mutmut_<n>) to the class: not ours
    own = {name for name in vars(OpenAIEndpoint) if not name.startswith("_") and "__mutmut_" not in name}
    own -= set(vars(Endpoint))
    section = doc_section("The endpoint: `openai_service`")
    missing = sorted(name for name in own | {"url", "details"} if f"`{name}" not in section)
    assert missing == [], f"docs/openai-fake.md's endpoint table does not name {missing}"


def test_the_served_surface_table_lists_every_route_the_fake_serves():
    from narrative_fixtures.services.openai.fake.unserved import served_endpoints

    section = doc_section("What the fake serves, against the OpenAI API reference")
    missing = [route for route in served_endpoints() if route.replace("{response_id}", "{id}") not in section]
    assert missing == [], f"docs/openai-fake.md's surface table does not list {missing}"
