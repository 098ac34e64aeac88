"""Steps of the documentation criterion that concern the README (the fixture reference steps are in acceptance)."""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import then, when

from narrative_fixtures import reference


@when("the README's configuration table is generated from the settings", target_fixture="readme_pair")
def generate_readme_table(request) -> tuple[str, str]:
    committed = (Path(request.config.rootpath) / reference.README).read_text(encoding="utf-8")
    return committed, reference.with_readme_table(committed)


@then("it is identical to the table in the committed README")
def readme_table_current(readme_pair: tuple[str, str]):
    committed, regenerated = readme_pair
    assert committed == regenerated, "README.md's settings table is stale: run python -m narrative_fixtures.reference --write"
    assert reference.readme_table() in committed
