"""Grid state: debounce per signal, unknown on failed polls, combination, change time, restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.energy.grid import Debounce, GridTracker
from gridwatch.sources.homewizard.reading import P1Reading, PhaseValues
from gridwatch.sources.inverter.component import p1_mains_present

pytestmark = pytest.mark.clock

INV = ("inverter", "smg")
P1 = ("homewizard", "home")


def test_single_bad_poll_does_not_flip_but_n_polls_do() -> None:
    d = Debounce(needed=3)
    for t in range(3):
        d.observe(True, float(t))
    assert d.current is True and d.since == 0.0
    d.observe(False, 10.0)  # one dip
    d.observe(True, 11.0)
    assert d.current is True
    d.observe(False, 20.0)
    d.observe(False, 21.0)
    assert d.current is True  # 2 of 3
    assert d.observe(False, 22.0) is True
    assert d.current is False and d.since == 20.0  # the first poll that saw it


def test_failed_poll_is_unknown_and_restarts_the_count() -> None:
    d = Debounce(needed=3)
    for t in range(3):
        d.observe(True, float(t))
    d.observe(False, 10.0)
    d.observe(False, 11.0)
    d.fail()
    assert d.current is None  # unknown, never "down"
    d.observe(False, 30.0)
    assert d.current is True  # known again; the interrupted run does not count
    d.observe(False, 31.0)
    d.observe(False, 32.0)
    assert d.current is False and d.since == 30.0


def test_nothing_known_before_n_agreeing_polls() -> None:
    d = Debounce(needed=2)
    d.observe(True, 0.0)
    assert d.current is None
    d.observe(True, 1.0)
    assert d.current is True


def feed(tracker: GridTracker, signal: tuple[str, str], present: bool, times: range) -> None:
    for t in times:
        tracker.observe(*signal, present, float(t))


def test_tracker_change_time_and_unknown() -> None:
    tracker = GridTracker(consecutive_polls=2)
    feed(tracker, INV, True, range(0, 2))
    assert (
        tracker.up is True and tracker.changed_at is None
    )  # first state: when it began is unknown
    feed(tracker, INV, False, range(100, 102))
    assert tracker.up is False and tracker.changed_at == 100.0
    tracker.fail(*INV)
    assert tracker.up is None and tracker.changed_at == 100.0
    feed(tracker, INV, True, range(200, 202))
    assert tracker.up is True and tracker.changed_at == 200.0


def test_any_combination_uses_the_p1_meter_as_second_signal() -> None:
    tracker = GridTracker(consecutive_polls=1, combine="any")
    tracker.observe(*INV, True, 0.0)
    tracker.observe(*P1, True, 0.0)
    tracker.observe(*INV, False, 10.0)  # the inverter's input breaker is off, the meter sees mains
    assert tracker.up is True
    tracker.observe(*P1, True, 20.0)  # the meter still sees the grid after the inverter lost it
    tracker.fail(*P1)  # the meter goes dark with the grid: unknown, not down
    assert tracker.up is False
    assert tracker.changed_at == 20.0  # not 10: the grid was still up when the meter last looked
    all_of = GridTracker(consecutive_polls=1, combine="all")
    all_of.observe(*INV, True, 0.0)
    all_of.observe(*P1, False, 5.0)
    assert all_of.up is False


def test_change_time_survives_a_restart(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    first = GridTracker(consecutive_polls=2, db=lambda: db)
    feed(first, INV, True, range(0, 2))
    feed(first, INV, False, range(50, 52))
    assert first.changed_at == 50.0
    db.close()

    db = StateDB(tmp_path / "state.db")
    second = GridTracker(consecutive_polls=2, db=lambda: db)
    feed(second, INV, False, range(500, 502))  # still down after the restart: no change
    assert second.up is False and second.changed_at == 50.0
    feed(second, INV, True, range(600, 602))
    assert second.changed_at == 600.0
    db.close()
    db = StateDB(tmp_path / "state.db")
    third = GridTracker(consecutive_polls=1, db=lambda: db)
    third.observe(*INV, False, 900.0)  # went down while gridwatch was away
    assert third.changed_at == 900.0
    db.close()


def test_p1_presence_from_phase_voltages() -> None:
    def reading(*volts: float | None) -> P1Reading:
        phases = {f"l{i + 1}": PhaseValues(voltage_v=v) for i, v in enumerate(volts)}
        return P1Reading(received_at=0.0, api="v1", transport="poll", phases=phases)

    assert p1_mains_present(reading(231.0, 0.0, 229.5), 170) is True
    assert p1_mains_present(reading(0.0, 0.0, 0.0), 170) is False
    assert p1_mains_present(reading(None), 170) is None
