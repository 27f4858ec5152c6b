"""Timeline and change detection: active now, next outage, unknown days, midnight, restarts."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.sources.outages.schedule import (
    KYIV,
    DaySchedule,
    Schedule,
    make_window,
)
from gridwatch.sources.outages.tracker import ScheduleTracker, changed_days

pytestmark = pytest.mark.clock

D20, D21, D22 = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)


def kyiv(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=KYIV).timestamp()


def schedule(at: float, days: Mapping[date, Sequence[tuple[str, str]]]) -> Schedule:
    parsed = {
        day: DaySchedule(day, tuple(make_window(day, a, b, KYIV) for a, b in windows))
        for day, windows in days.items()
    }
    return Schedule(at, "5.2", "prykarpattyaoblenergo", KYIV, parsed)


def test_active_and_next_within_published_days() -> None:
    s = schedule(0, {D20: [("09:00", "12:00"), ("18:00", "21:30")], D21: []})
    assert s.active(kyiv("2026-11-20T08:00")) is False
    assert s.current_or_next(kyiv("2026-11-20T08:00")) == (
        kyiv("2026-11-20T09:00"),
        kyiv("2026-11-20T12:00"),
    )
    assert s.active(kyiv("2026-11-20T10:00")) is True
    assert s.current_or_next(kyiv("2026-11-20T10:00")) == (  # the one in progress
        kyiv("2026-11-20T09:00"),
        kyiv("2026-11-20T12:00"),
    )
    assert s.current_or_next(kyiv("2026-11-20T12:00"))[0] == kyiv("2026-11-20T18:00")  # type: ignore[index]
    # After the last window: tomorrow is published without outages, nothing is known beyond.
    assert s.current_or_next(kyiv("2026-11-20T22:00")) is None
    assert s.active(kyiv("2026-11-21T10:00")) is False


def test_unpublished_today_is_unknown_not_power_on() -> None:
    s = schedule(0, {D21: [("10:00", "12:00")]})
    assert s.active(kyiv("2026-11-20T10:00")) is None
    # Tomorrow's window is not "the next outage": today could still hold one.
    assert s.current_or_next(kyiv("2026-11-20T10:00")) is None
    assert s.current_or_next(kyiv("2026-11-21T09:00")) == (
        kyiv("2026-11-21T10:00"),
        kyiv("2026-11-21T12:00"),
    )


def test_windows_touching_at_midnight_are_one_outage() -> None:
    s = schedule(0, {D20: [("22:00", "24:00")], D21: [("00:00", "02:00")]})
    assert s.current_or_next(kyiv("2026-11-20T21:00")) == (
        kyiv("2026-11-20T22:00"),
        kyiv("2026-11-21T02:00"),
    )
    # Just after midnight, tomorrow's listing carries on the outage that started yesterday.
    assert s.active(kyiv("2026-11-21T00:30")) is True


def test_window_from_yesterday_is_active_even_if_today_is_unpublished() -> None:
    s = schedule(0, {D20: [("23:00", "01:00")]})
    assert s.active(kyiv("2026-11-21T00:30")) is True
    assert s.active(kyiv("2026-11-21T01:30")) is None


def test_change_detection_ignores_past_days_and_approval_stamps() -> None:
    old = schedule(0, {D20: [("09:00", "12:00")], D21: [("10:00", "12:00")]}).days
    rolled = schedule(0, {D21: [("10:00", "12:00")]}).days  # same window, listed again
    assert changed_days(old, rolled, D21) == []  # midnight: D20 dropped off, D21 unchanged
    moved = schedule(0, {D20: [("09:00", "12:00")], D21: [("10:30", "12:00")]}).days
    assert changed_days(old, moved, D20) == [D21]
    published = schedule(0, {D20: [("09:00", "12:00")], D21: [("10:00", "12:00")], D22: []}).days
    assert changed_days(old, published, D20) == [D22]  # a day newly published is a change
    withdrawn = schedule(0, {D20: [("09:00", "12:00")]}).days
    assert changed_days(old, withdrawn, D20) == [D21]


def _tracker(db: StateDB) -> ScheduleTracker:
    return ScheduleTracker(
        device="home",
        queue="5.2",
        operator="prykarpattyaoblenergo",
        tz=KYIV,
        stale_after=6 * 3600,
        db=lambda: db,
    )


def test_tracker_counts_a_change_once_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "gridwatch.db"
    db = StateDB(path)
    tracker = _tracker(db)
    t0 = kyiv("2026-11-20T08:00")
    first = {D20: [("09:00", "12:00")], D21: [("10:00", "12:00")]}
    assert tracker.update(schedule(t0, first)) == []  # the first download is the baseline
    assert tracker.update(schedule(t0 + 600, first)) == []
    changed = {D20: [("09:00", "12:00")], D21: [("10:00", "13:00")]}
    assert tracker.update(schedule(t0 + 1200, changed)) == [D21]
    assert tracker.update(schedule(t0 + 1800, changed)) == []
    assert (tracker.changes, tracker.last_change) == (1, t0 + 1200)
    db.close()

    db = StateDB(path)
    restarted = _tracker(db)
    assert (restarted.changes, restarted.last_change) == (1, t0 + 1200)
    restored = restarted.current(t0 + 2000)
    assert restored is not None
    assert restored.received_at == t0 + 1800
    assert [(w.start_text, w.end_text) for w in restored.days[D21].windows] == [("10:00", "13:00")]
    assert restarted.current(t0 + 1800 + 6 * 3600 + 1) is None  # too old to use
    # The first download after the restart compares with the saved copy: no change.
    assert restarted.update(schedule(t0 + 2400, changed)) == []
    assert restarted.changes == 1
    db.close()


def test_tracker_ignores_a_saved_schedule_of_another_queue(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "gridwatch.db")
    db.put("outages", "home", {"queue": "4.1", "received_at": 1.0, "days": {}, "changes": 3})
    tracker = _tracker(db)
    assert tracker.latest is None
    assert tracker.changes == 3
    db.put("outages", "home", {"queue": "5.2", "received_at": "x", "days": {"bad": 1}})
    assert _tracker(db).latest is None  # unreadable: ignored with a warning, never a crash
    db.close()


def test_a_state_file_that_fails_costs_only_the_restart_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> StateDB:
        raise sqlite3.OperationalError("unable to open database file")

    tracker = ScheduleTracker(
        device="home",
        queue="5.2",
        operator="prykarpattyaoblenergo",
        tz=KYIV,
        stale_after=6 * 3600,
        db=broken,
    )
    t0 = kyiv("2026-11-20T08:00")
    tracker.update(schedule(t0, {D20: [("09:00", "12:00")]}))
    tracker.update(schedule(t0 + 600, {D20: [("09:00", "12:00")]}))
    assert tracker.update(schedule(t0 + 1200, {D20: [("10:00", "12:00")]})) == [D20]
    assert tracker.current(t0 + 1300) is not None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "cannot read the saved outage schedule of home: unable to open database file",
        "cannot save the outage schedule of home: unable to open database file",
    ]


def test_yesterday_is_carried_over_only_when_the_new_download_lacks_it() -> None:
    tracker = ScheduleTracker(
        device="home", queue="5.2", operator="prykarpattyaoblenergo", tz=KYIV, stale_after=6 * 3600
    )
    tracker.update(schedule(kyiv("2026-11-20T23:50"), {D20: [("23:00", "01:00")], D21: []}))
    after_midnight = schedule(kyiv("2026-11-21T00:10"), {D21: []})
    carried = tracker.carry_over(after_midnight)
    assert set(carried.days) == {D20, D21}
    assert carried.active(kyiv("2026-11-21T00:30")) is True
    listed = schedule(kyiv("2026-11-21T00:10"), {D20: [], D21: []})
    assert tracker.carry_over(listed) is listed  # the operator's own word on yesterday wins
    tracker.update(carried)
    # A day later only the new yesterday comes along: no window reaches two days.
    later = tracker.carry_over(schedule(kyiv("2026-11-22T00:10"), {D22: []}))
    assert set(later.days) == {D21, D22}
