"""The last known schedule and its change history, kept in the state file across restarts.

A change is a download whose windows differ from the previous download for any day from today
(operator time) on: new windows, moved windows, a day newly published or withdrawn. A past day
dropping off at midnight, a new approval stamp over the same windows, or a restart (the previous
schedule is loaded from disk) is not a change.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gridwatch.core.statedb import StateDB
from gridwatch.sources.outages.schedule import (
    DaySchedule,
    DayStatus,
    Schedule,
    ScheduleFormatError,
    Window,
    make_window,
)

log = logging.getLogger(__name__)
NAMESPACE = "outages"


def changed_days(
    old: Mapping[date, DaySchedule],
    new: Mapping[date, DaySchedule],
    today: date,
    *,
    definite: bool = False,
) -> list[date]:
    """Days from ``today`` on whose normalised day differs (None = absent, "no data").

    ``definite``: only definite outages count (a day coming into force or leaving it, its
    windows) — what alerts follow; possible and preliminary windows do not.
    """

    def key(entry: DaySchedule | None) -> object:
        if entry is None:
            return None
        if definite:
            return entry.known, tuple((w.start_text, w.end_text) for w in entry.windows)
        return entry.signature

    changed = []
    for day in sorted(set(old) | set(new)):
        if day < today:
            continue
        if key(old.get(day)) != key(new.get(day)):
            changed.append(day)
    return changed


class ScheduleTracker:
    def __init__(
        self,
        *,
        device: str,
        queue: str,
        operator: str,
        tz: ZoneInfo,
        stale_after: float,
        db: Callable[[], StateDB] | None = None,
    ) -> None:
        self.device = device
        self.queue = queue
        self.operator = operator
        self.tz = tz
        self.stale_after = stale_after
        self._db = db
        self.latest: Schedule | None = None
        self.changes = 0
        self.definite_changes = 0  # changes of definite outages only (what alerts follow)
        self.last_change: float | None = None
        self.last_changed_days: list[date] = []
        self._save_error: str | None = None  # the last failure to save, logged once
        self._load()

    def current(self, now: float) -> Schedule | None:
        """The latest schedule while it is younger than ``stale_after``."""
        latest = self.latest
        if latest is None or now - latest.received_at > self.stale_after:
            return None
        return latest

    def carry_over(self, schedule: Schedule) -> Schedule:
        """``schedule`` plus yesterday's listing from the previous download if it lacks it.

        After midnight the operator lists only today and tomorrow, but a window listed for
        yesterday (23:00–01:00) is still running: without yesterday it would read as "no
        outage now". Windows are at most a day long, so yesterday is all that can matter.
        """
        previous = self.latest
        yesterday = schedule.local_date(schedule.received_at) - timedelta(days=1)
        if previous is None or yesterday in schedule.days or yesterday not in previous.days:
            return schedule
        days = {yesterday: previous.days[yesterday], **schedule.days}
        return replace(schedule, days=days)

    def update(self, schedule: Schedule) -> list[date]:
        """Take a fresh download; returns the days that changed (empty: no change)."""
        changed: list[date] = []
        if self.latest is not None:
            today = schedule.local_date(schedule.received_at)
            changed = changed_days(self.latest.days, schedule.days, today)
            if changed_days(self.latest.days, schedule.days, today, definite=True):
                self.definite_changes += 1
        if changed:
            self.changes += 1
            self.last_change = schedule.received_at
            self.last_changed_days = changed
            log.info(
                "outage schedule of queue %s changed for %s",
                self.queue,
                ", ".join(d.isoformat() for d in changed),
            )
        self.latest = schedule
        self._save()
        return changed

    # persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        # Best effort: a state file that cannot be written costs the restart memory, never the
        # schedule in use, so the download still counts and the failure is logged once.
        if self._db is None or self.latest is None:
            return
        try:
            self._db().put(NAMESPACE, self.device, self._dump(self.latest))
        except (sqlite3.Error, OSError) as exc:
            if str(exc) != self._save_error:
                log.warning("cannot save the outage schedule of %s: %s", self.device, exc)
            self._save_error = str(exc)
        else:
            self._save_error = None

    def _dump(self, schedule: Schedule) -> dict[str, Any]:
        return {
            "queue": schedule.queue,
            "received_at": schedule.received_at,
            "days": {
                day.isoformat(): {
                    "windows": [[w.start_text, w.end_text] for w in d.windows],
                    "possible": [[w.start_text, w.end_text] for w in d.possible],
                    "preliminary": [[w.start_text, w.end_text] for w in d.preliminary],
                    "status": d.state.value,
                    "approved_at": d.approved_at,
                    "created_at": d.created_at,
                    "data_at": d.data_at,
                }
                for day, d in schedule.days.items()
            },
            "changes": self.changes,
            "definite_changes": self.definite_changes,
            "last_change": self.last_change,
        }

    def _load(self) -> None:
        if self._db is None:
            return
        try:
            data = self._db().get(NAMESPACE, self.device)
        except (sqlite3.Error, OSError) as exc:
            log.warning("cannot read the saved outage schedule of %s: %s", self.device, exc)
            return
        if not isinstance(data, dict):
            return
        try:
            self.changes = int(data.get("changes") or 0)
            self.definite_changes = int(data.get("definite_changes") or 0)
            last = data.get("last_change")
            self.last_change = float(last) if last is not None else None
            if data.get("queue") != self.queue:
                return  # the queue was reconfigured: its old windows are someone else's
            days = {}
            for text, raw in data["days"].items():
                day = date.fromisoformat(text)

                def windows(
                    key: str, day: date = day, raw: dict[str, Any] = raw
                ) -> tuple[Window, ...]:
                    return tuple(make_window(day, a, b, self.tz) for a, b in raw.get(key, []))

                status = raw.get("status")
                days[day] = DaySchedule(
                    day,
                    windows("windows"),
                    raw.get("approved_at"),
                    raw.get("created_at"),
                    status=DayStatus(status) if status is not None else None,
                    possible=windows("possible"),
                    preliminary=windows("preliminary"),
                    data_at=raw.get("data_at"),
                )
            self.latest = Schedule(
                float(data["received_at"]), self.queue, self.operator, self.tz, days
            )
        except (KeyError, TypeError, ValueError, ScheduleFormatError) as exc:
            log.warning("ignoring the saved outage schedule of %s: %s", self.device, exc)
            self.latest = None
