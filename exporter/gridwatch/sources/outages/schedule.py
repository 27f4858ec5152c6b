"""The outage schedule of one queue as gridwatch understands it, whatever the operator.

A day is either *published* (present in ``Schedule.days``, possibly with no windows: "no outages
that day") or *not published* (absent: "no information", which must never read as "power on").
Windows are wall-clock times of the operator's zone turned into Unix times, so DST days (23 or 25
hours) and windows past midnight come out with their real length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class ScheduleFormatError(ValueError):
    """The operator's answer does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Window:
    """One planned outage as published: ``start``/``end`` are Unix times, end > start."""

    start: float
    end: float
    start_text: str  # "HH:MM" as the operator wrote it
    end_text: str

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """A published day of one queue; ``windows`` empty means "no outages that day"."""

    day: date
    windows: tuple[Window, ...]
    approved_at: float | None = None
    created_at: float | None = None

    @property
    def signature(self) -> tuple[tuple[str, str], ...]:
        """What counts for change detection: the windows, not the approval stamp."""
        return tuple(sorted((w.start_text, w.end_text) for w in self.windows))

    @property
    def planned_seconds(self) -> float:
        return sum(end - start for start, end in merge((w.start, w.end) for w in self.windows))


@dataclass(frozen=True, slots=True)
class Schedule:
    """A downloaded schedule: the published days of one queue and when it was fetched."""

    received_at: float
    queue: str
    operator: str
    tz: ZoneInfo
    days: Mapping[date, DaySchedule]

    def published(self, day: date) -> bool:
        return day in self.days

    def local_date(self, at: float) -> date:
        return datetime.fromtimestamp(at, self.tz).date()

    def intervals(self) -> list[tuple[float, float]]:
        """Every planned outage of every published day, overlapping/touching ones merged."""
        return merge((w.start, w.end) for d in self.days.values() for w in d.windows)

    def active(self, now: float) -> bool | None:
        """Outage on now: True/False, or None when today is not published (unknown)."""
        if any(start <= now < end for start, end in self.intervals()):
            return True
        return False if self.published(self.local_date(now)) else None

    def current_or_next(self, now: float) -> tuple[float, float] | None:
        """The outage in progress, else the next one; None unless every day up to it is known."""
        for start, end in self.intervals():
            if end <= now:
                continue
            if start <= now or self._covered(now, start):
                return start, end
            return None  # an unpublished day lies between now and this window
        return None

    def _covered(self, now: float, until: float) -> bool:
        day, last = self.local_date(now), self.local_date(until)
        while day <= last:
            if not self.published(day):
                return False
            day += timedelta(days=1)
        return True


def merge(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted union of intervals; touching ones (22:00–24:00 + 00:00–02:00) become one."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def parse_clock(text: object, *, end: bool) -> tuple[int, int]:
    """``HH:MM`` on a half-hour (or any minute) grid; ``24:00`` only as an end."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        raise ScheduleFormatError(f"time {text!r} is not HH:MM")
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not end)):
        raise ScheduleFormatError(f"time {text!r} is out of range")
    return hour, minute


def local_timestamp(day: date, hour: int, minute: int, tz: ZoneInfo) -> float:
    """Unix time of a wall-clock time; 24:00 is the next midnight.

    A time skipped by the spring DST jump (03:00–03:59 on the last Sunday of March in Kyiv) is
    read with the offset before the jump (zoneinfo's fold=0): 03:00 is the moment of the jump, so
    a window 02:00–05:00 lasts the 2 hours that really pass. A repeated autumn time takes its
    first occurrence.
    """
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return datetime.combine(day, time(hour, minute), tzinfo=tz).timestamp()


def make_window(day: date, start_text: str, end_text: str, tz: ZoneInfo) -> Window:
    """A window of ``day``; an end not after the start (or 00:00/24:00) is past midnight."""
    sh, sm = parse_clock(start_text, end=False)
    eh, em = parse_clock(end_text, end=True)
    start = local_timestamp(day, sh, sm, tz)
    end_day = day if (eh, em) > (sh, sm) else day + timedelta(days=1)
    end = local_timestamp(end_day, eh, em, tz)
    if end <= start:  # e.g. a window entirely inside the skipped DST hour
        raise ScheduleFormatError(f"window {start_text}-{end_text} on {day} has no length")
    return Window(start, end, start_text.strip(), end_text.strip())
