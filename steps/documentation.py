"""Steps of "Comprehensive documentation": the fixture reference and the README's settings table are generated
from the plugin, so a stale copy, an undocumented fixture or setting fails."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from pytest_bdd import then, when

from narrative_fixtures import reference
from narrative_fixtures.core.settings import all_settings
from narrative_fixtures.signoff.allure_labels import attach
from narrative_fixtures.signoff.collect import plugin_fixtures


def _committed_reference(request) -> str:
    path = Path(request.config.rootpath) / reference.DEFAULT_OUTPUT
    assert path.is_file(), f"{reference.DEFAULT_OUTPUT} is missing: run python -m narrative_fixtures.reference --write"
    return path.read_text(encoding="utf-8")


@when("the fixture reference is generated from the plugin", target_fixture="generated_reference")
def generate_reference() -> str:
    return reference.render()


@then("it is identical to the committed docs/fixtures.md")
def reference_current(request, generated_reference: str):
    committed = _committed_reference(request)
    if committed != generated_reference:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True), generated_reference.splitlines(keepends=True),
                "docs/fixtures.md (committed)", "docs/fixtures.md (generated)",
            )
        )  # fmt: skip
        attach(request, "what changed", diff)
        pytest.fail(
            f"{reference.DEFAULT_OUTPUT} is stale ({diff.count(chr(10))} diff lines):"
            " run python -m narrative_fixtures.reference --write",
            pytrace=False,
        )


@then("every fixture the plugin registers is described in the fixture reference")
def fixtures_documented(request):
    committed = _committed_reference(request)
    registered = plugin_fixtures(request.session)
    assert registered, "the plugin registers no fixture"
    missing = [name for name in registered if f"#### `{name}`" not in committed]
    assert not missing, f"not in {reference.DEFAULT_OUTPUT}: {', '.join(missing)}"


@then("every fixture the plugin registers has a docstring of one to three lines")
def fixture_docstrings(request):
    docs = {doc.name: doc for doc in reference.discover()}
    registered = plugin_fixtures(request.session)
    wrong = []
    for name in registered:
        doc = docs.get(name)
        lines = len(doc.doc_lines) if doc else 0
        if not 1 <= lines <= 3:
            wrong.append(f"{name} ({lines} lines)")
    assert not wrong, "fixtures whose docstring is not 1-3 lines: " + ", ".join(wrong)


@then("every setting's environment variable and command-line option appear in the fixture reference")
def settings_documented(request):
    committed = _committed_reference(request)
    missing = []
    for service, setting in all_settings():
        if setting.env and f"`{setting.env}`" not in committed:
            missing.append(setting.env)
        if f"`{setting.option(service)}`" not in committed:
            missing.append(setting.option(service))
    assert not missing, f"not in {reference.DEFAULT_OUTPUT}: {', '.join(missing)}"


@when("the README's configuration table is generated from the settings", target_fixture="readme_pair")
def generate_readme_table(request) -> tuple[str, str]:
    committed = (Path(request.config.rootpath) / reference.README).read_text(encoding="utf-8")
    return committed, reference.with_readme_table(committed)


@then("it is identical to the table in the committed README")
def readme_table_current(readme_pair: tuple[str, str]):
    committed, regenerated = readme_pair
    assert committed == regenerated, "README.md's settings table is stale: run python -m narrative_fixtures.reference --write"
    assert reference.readme_table() in committed
