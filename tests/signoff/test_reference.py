"""The generated fixture reference: complete, deterministic, and its --check catches a stale copy."""

from __future__ import annotations

import pytest

from narrative_fixtures import config as cfg
from narrative_fixtures import reference
from narrative_fixtures.signoff.collect import plugin_fixtures


def test_rendering_twice_gives_the_same_text():
    assert reference.render() == reference.render()


def test_every_fixture_pytest_registers_from_the_plugin_is_in_the_reference(request):
    text = reference.render()
    registered = plugin_fixtures(request.session)
    assert registered and {"run_async", "redis_client", "test_redis_job"} <= set(registered)
    assert [name for name in registered if f"#### `{name}`" not in text] == []


def test_discovery_and_pytest_agree_on_the_plugins_fixtures(request):
    assert {doc.name for doc in reference.discover()} == set(plugin_fixtures(request.session))


def test_every_setting_is_in_the_reference_and_secrets_are_not():
    text = reference.render()
    for service, setting in cfg.all_settings():
        assert f"`{setting.option(service)}`" in text
        if setting.env:
            assert f"`{setting.env}`" in text
        if setting.secret and setting.default:
            assert setting.default not in text
    assert "test_redis_password" not in text  # the password inside the default Redis URL is masked


def test_check_reports_a_stale_file(tmp_path, capsys):
    target = tmp_path / "fixtures.md"
    assert reference.main(["--check", "--output", str(target)]) == 1
    assert "stale" in capsys.readouterr().err
    assert reference.main(["--write", "--output", str(target)]) == 0
    assert reference.main(["--check", "--output", str(target)]) == 0
    target.write_text(target.read_text() + "hand edit\n")
    assert reference.main(["--check", "--output", str(target)]) == 1


def test_a_fixture_without_docstring_is_shown_as_such(pytester: pytest.Pytester):
    pytester.makepyfile(
        undocumented_plugin="import pytest\n\n@pytest.fixture\ndef bare(tmp_path):\n    return 1\n"
    )
    pytester.syspathinsert()
    docs = reference.discover(["undocumented_plugin"])
    assert [(d.name, d.scope, d.needs, d.doc) for d in docs] == [("bare", "function", ("tmp_path",), "")]
    assert "*(no docstring)*" in reference.render(docs)
