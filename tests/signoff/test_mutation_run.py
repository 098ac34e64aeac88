"""The mutation run's bookkeeping: equivalents matched on the whole change, the full-run summary, the progress."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from narrative_fixtures.mutation import equivalents
from narrative_fixtures.mutation.progress import Progress
from narrative_fixtures.mutation.report import run_summary
from narrative_fixtures.mutation.results import KILLED, SURVIVED, Mutant, shorten
from narrative_fixtures.mutation.targets import Target

ROOT = Path(__file__).resolve().parents[2]
LONG = "rule = Rule(" + ", ".join(f"field_{i}='value {i}'" for i in range(20)) + ")"


def mutant(change: str, status: str = SURVIVED, name: str = "m.x_f__mutmut_1") -> Mutant:
    return Mutant(name, "m", "f.py", "f", 3, change, status)


def entry(change: str) -> equivalents.Equivalent:
    return equivalents.Equivalent("f.py", "f", change, "planted")


def test_an_entry_names_one_of_two_mutants_of_a_long_line_that_differ_past_the_old_cut():
    first = f"{LONG}  ->  {LONG.replace('value 19', 'XXvalue 19XX')}"
    second = f"{LONG}  ->  {LONG.replace('value 19', '')}"
    assert shorten(first) == shorten(second), "the old report could not tell them apart"
    mutants = [mutant(first), mutant(second, name="m.x_f__mutmut_2")]
    unmatched = equivalents.apply(mutants, [entry(second)])
    assert [m.status for m in mutants] == [SURVIVED, "equivalent"] and unmatched == []


def old_apply(mutants: list[Mutant], reported: list[str], entries: list[equivalents.Equivalent]) -> list[str]:
    """The matching before 2026-12-02: the change as the report showed it then (``reported``), compared whole."""
    by_key = {(e.file, e.function, e.change): e for e in entries}
    return [("equivalent" if (m.file, m.function, shown) in by_key and m.status != KILLED else m.status)
            for m, shown in zip(mutants, reported)]


def test_today_s_reviewed_entries_are_read_and_matched_exactly_as_before():
    """Every entry of the project's file: the mutant it was written from (a cut one: any long change with that
    beginning) is equivalent now as it was, and a killed one stays killed."""
    path = ROOT / equivalents.FILE_NAME
    reviewed = equivalents.load(path)
    assert len(reviewed) == len(tomllib.loads(path.read_text())["equivalent"]) >= 221
    cut = [e for e in reviewed if equivalents.is_cut(e.change)]
    assert cut, "the file still holds entries written from cut reports"
    mutants, reported = [], []  # the change in full now, and as the report showed it then
    for e in reviewed:
        changes = [e.change[:-3] + "x" * 80, e.change[:-3] + "y" * 90] if equivalents.is_cut(e.change) else [e.change]
        for change in changes:
            for status in (SURVIVED, KILLED):
                mutants.append(Mutant("n", "m", e.file, e.function, 1, change, status))
                reported.append(shorten(change) if equivalents.is_cut(e.change) else change)
    mutants.append(Mutant("n", "m", reviewed[0].file, reviewed[0].function, 1, "a  ->  b", SURVIVED))
    reported.append("a  ->  b")
    before = old_apply(mutants, reported, reviewed)
    assert equivalents.apply(mutants, reviewed) == []
    assert [m.status for m in mutants] == before
    assert before.count("equivalent") == len(reviewed) - len(cut) + 2 * len(cut)


def criterion(complete: bool = True) -> dict:
    return {"complete": complete, "not run": 0 if complete else 7}


def test_a_full_run_is_every_service_criterion_each_mutant_run_and_anything_less_says_why():
    from narrative_fixtures.signoff.checklist import CHECKLIST

    keys = [c.key for c in CHECKLIST if c.service]
    targets = [Target(key) for key in keys]
    full = run_summary(targets, {key: criterion() for key in keys}, [], 3000.0, "cmd", sample=False)
    assert full["full_run"] and full["why_not_full"] == [] and full["wall_seconds"] == 3000.0
    partial = run_summary(targets, {**{k: criterion() for k in keys[1:]}, keys[0]: criterion(False)}, [], 1.0, "c",
                          sample=False)
    assert not partial["full_run"] and partial["why_not_full"] == [f"partial: {keys[0]} (7 not run)"]
    one = run_summary(targets[:1], {keys[0]: criterion()}, [], 1.0, "c", sample=True)
    assert one["why_not_full"] == ["a sample (modules, --tests, --only or --again)",
                                   f"not chosen: {', '.join(keys[1:])}"]
    stopped = run_summary(targets, {k: criterion() for k in keys[:-1]}, keys[-1:], 1.0, "c", sample=False)
    assert stopped["why_not_full"] == [f"not measured: {keys[-1]}"]


def write_meta(copy: Path, codes: dict[str, int | None]) -> None:
    meta = (copy / "mutants" / "src" / "pkg" / "mod.py.meta")
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {k: 1.0 for k in codes}}))


def test_progress_counts_this_run_s_verdicts_of_the_chosen_mutants(tmp_path):
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(1, 5)]
    write_meta(tmp_path, {names[0]: 1, names[1]: None, names[2]: None, names[3]: None})  # an earlier run's verdict
    progress = Progress("[1/4 redis]", tmp_path, ["pkg.mod"], [])
    sample = Progress("s", tmp_path, ["pkg.mod"], ["*__mutmut_2", "*__mutmut_3"])
    assert progress.counts() == (0, 4) and "preparing" in progress.line()
    write_meta(tmp_path, {names[0]: 1, names[1]: 0, names[2]: None, names[3]: None})
    assert progress.counts() == (1, 4) and sample.counts() == (1, 2)
    assert progress.line().startswith("mutation: [1/4 redis] 1 / 4 mutants (25 %)")


def test_the_entry_points_are_read_once_and_are_the_same_as_importlib_reads_them(monkeypatch):
    import importlib.metadata as metadata

    from narrative_fixtures.mutation.selection import cache_entry_points

    original = metadata.distributions
    monkeypatch.setattr(metadata, "distributions", original)
    cache_entry_points()
    first, second = list(metadata.distributions()), list(metadata.distributions())
    assert [id(d) for d in first] == [id(d) for d in second] and len(first) == len(list(original()))
    fresh = {d.metadata["Name"]: sorted((e.group, e.name, e.value) for e in d.entry_points) for d in original()}
    cached = {d.metadata["Name"]: sorted((e.group, e.name, e.value) for e in d.entry_points) for d in first}
    assert cached == fresh and any(group == "pytest11" for eps in cached.values() for group, _, _ in eps)
    assert first[0].entry_points is first[0].entry_points, "read once"
    assert [d.metadata["Name"] for d in metadata.distributions(name="pytest")] == ["pytest"], "a search goes through"
    cache_entry_points()
    assert list(metadata.distributions()) == first, "installing it twice keeps one cache"


def test_a_profile_adds_up_the_mutants_sessions_and_leaves_out_the_stats_and_clean_runs(tmp_path):
    from narrative_fixtures.mutation.profile import summary

    session = {"configure_and_collect": 0.5, "plugin_to_configure": 0.25, "session": 2.0,
               "tests": [{"setup": 1.0, "call": 0.25, "teardown": 0.0}, {"setup": 0.0, "call": 0.5, "teardown": 0.25}]}
    lines = [{**session, "mutant": "stats"}, {**session, "mutant": "m.x_f__mutmut_1"},
             {**session, "mutant": "m.x_f__mutmut_2"}]
    path = tmp_path / "profile.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert summary(str(path)) == {"sessions": 2, "configure_and_collect": 1.0, "plugin_to_configure": 0.5,
                                  "session": 4.0, "tests": 4, "first_setup": 2.0, "last_teardown": 0.5,
                                  "setup": 2.0, "call": 1.5, "teardown": 0.5}


def test_only_mutants_of_the_modules_that_start_servers_keep_the_prestart():
    from narrative_fixtures.mutation.selection import starts_servers

    assert starts_servers("stats") and starts_servers("")
    assert starts_servers("narrative_fixtures.services.s3.provider.x_external_url__mutmut_3")
    assert starts_servers("narrative_fixtures.services.openai.fake.server.xǁFakeHandlerǁdo_GET__mutmut_1")
    assert starts_servers("narrative_fixtures.services.mongodb.server.x_ping_problem__mutmut_2")
    assert not starts_servers("narrative_fixtures.services.s3.janitor.x_empty_bucket__mutmut_7")
    assert not starts_servers("narrative_fixtures.services.openai.fake.chat.x_reply__mutmut_1")


def test_the_criteria_are_measured_in_the_order_they_are_asked_for():
    from narrative_fixtures.mutation.targets import plan

    root = Path(__file__).resolve().parents[2]
    keys = [target.key for target in plan([], ["redis", "s3", "openai", "mongodb"], [], root)]
    assert keys == ["redis", "s3", "openai", "mongodb"]
    assert [target.key for target in plan([], [], [], root)] == ["mongodb", "redis", "s3", "openai"]
