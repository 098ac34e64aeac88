"""core.fidelity.StandInWatch: a nested in-process run watching the outer run's stand-in leaves its watch in place."""

from __future__ import annotations

from types import SimpleNamespace

from narrative_fixtures.core.fidelity import StandInWatch


def watch_for(modes: dict[int, str]) -> StandInWatch:
    settings = lambda config: SimpleNamespace(settings={"mongodb": {"fidelity": modes[id(config)]}})  # noqa: E731
    return StandInWatch("mongodb", title="MongoDB", marker="needs_mongodb_server", target="MongoDB 7",
                        how="set TEST_MONGODB_URI", registry=settings, is_stand_in=lambda endpoint: True)


STAND_IN = SimpleNamespace(backend="FerretDB", version="1.24.2")


def test_a_nested_run_ending_leaves_the_outer_run_watching_the_same_server():
    outer, nested = object(), object()
    watch = watch_for({id(outer): "warn", id(nested): "fail"})
    assert watch.watch(outer, STAND_IN, [("127.0.0.1", 27017)])
    assert watch.watch(nested, STAND_IN, [("127.0.0.1", 27017)])  # the isolation scenario's nested run
    assert watch.lookup(("127.0.0.1", 27017)) == ("fail", "FerretDB 1.24.2")  # the innermost run's mode
    watch.unwatch(nested)
    assert watch.lookup(("127.0.0.1", 27017)) == ("warn", "FerretDB 1.24.2")  # the outer run still watches
    watch.unwatch(outer)
    assert watch.lookup(("127.0.0.1", 27017)) is None


def test_a_run_watching_off_or_a_real_server_watches_nothing():
    run = object()
    assert not watch_for({id(run): "off"}).watch(run, STAND_IN, [("127.0.0.1", 1)])
    real = watch_for({id(run): "warn"})
    real.is_stand_in = lambda endpoint: False
    assert not real.watch(run, STAND_IN, [("127.0.0.1", 1)]) and real.lookup(("127.0.0.1", 1)) is None
