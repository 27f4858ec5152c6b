"""The outage schedule of one queue as gridwatch understands it, whatever the operator.

Every operator normalises to the same thing: per local Europe/Kyiv day a ``DayStatus``
(``published | waiting | emergency | no_outages | no_data``) and 48 half-hour cells
(``on | possible | off | unknown``). A day absent from ``Schedule.days`` is ``no_data``. Only a
``published`` or ``no_outages`` day is *known*: "no data" (YASNO WaitingForSchedule, a DTEK
all-``yes`` tomorrow, an empty answer, stale mirror data) must never read as "power on".
Windows are wall-clock times of the operator's zone turned into Unix times, so DST days (23 or 25
hours) and windows past midnight come out with their real length.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
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


class DayStatus(StrEnum):
    PUBLISHED = "published"  # the operator's schedule is in force (with outages)
    WAITING = "waiting"  # not confirmed yet; windows, if any, are preliminary
    EMERGENCY = "emergency"  # schedule suspended: emergency outages instead, times unknown
    NO_OUTAGES = "no_outages"  # in force, no outages that day
    NO_DATA = "no_data"  # nothing usable (absent, stale, partial)


class Cell(StrEnum):
    ON = "on"
    POSSIBLE = "possible"
    OFF = "off"
    UNKNOWN = "unknown"


KNOWN = frozenset({DayStatus.PUBLISHED, DayStatus.NO_OUTAGES})
CELLS = 48  # half hours of wall-clock time per local day (a DST-skipped cell has no length)


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """One day of one queue.

    ``windows`` are definite outages and only exist on a known day; ``preliminary`` holds the
    definite-looking slots of a day still ``waiting`` (shown, never alerted on); ``possible`` the
    operator's "possible outage" half hours (DTEK ``maybe``, YASNO's weekly template).
    ``status`` None means: ``published`` with windows, ``no_outages`` without.
    """

    day: date
    windows: tuple[Window, ...]
    approved_at: float | None = None
    created_at: float | None = None
    status: DayStatus | None = None
    possible: tuple[Window, ...] = ()
    preliminary: tuple[Window, ...] = ()
    data_at: float | None = None  # when the operator (or mirror) last refreshed its data

    def __post_init__(self) -> None:
        if self.status is None:
            derived = DayStatus.PUBLISHED if self.windows else DayStatus.NO_OUTAGES
            object.__setattr__(self, "status", derived)
        elif self.status not in KNOWN and self.windows:
            raise ScheduleFormatError(f"{self.day}: a {self.status} day has no definite windows")

    @property
    def state(self) -> DayStatus:
        return self.status or DayStatus.NO_DATA  # never None after __post_init__

    @property
    def known(self) -> bool:
        return self.state in KNOWN

    def cells(self, tz: ZoneInfo) -> tuple[Cell, ...]:
        """48 half-hour cells of the local day; a cell touched by a window takes its state."""
        off = [(w.start, w.end) for w in self.windows]
        maybe = [(w.start, w.end) for w in (*self.possible, *self.preliminary)]
        base = Cell.ON if self.known else Cell.UNKNOWN
        result = []
        for start, end in cell_bounds(self.day, tz):
            if _touches(off, start, end):
                result.append(Cell.OFF)
            elif _touches(maybe, start, end):
                result.append(Cell.POSSIBLE)
            else:
                result.append(base)
        return tuple(result)

    @property
    def signature(self) -> tuple[object, ...]:
        """What counts for change detection: status and windows, not the approval stamp."""

        def texts(windows: tuple[Window, ...]) -> tuple[tuple[str, str], ...]:
            return tuple(sorted((w.start_text, w.end_text) for w in windows))

        return (
            self.state.value,
            texts(self.windows),
            texts(self.possible),
            texts(self.preliminary),
        )

    def digest(self, tz: ZoneInfo) -> str:
        """Hash of the normalised day (status + cells): equal for a re-sent schedule."""
        text = self.state.value + ":" + ",".join(c.value for c in self.cells(tz))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def planned_seconds(self) -> float:
        return sum(end - start for start, end in merge((w.start, w.end) for w in self.windows))

    @property
    def possible_seconds(self) -> float:
        """Possible (not definite) outage time: possible windows minus the definite ones."""
        definite = merge((w.start, w.end) for w in self.windows)
        total = 0.0
        for start, end in merge((w.start, w.end) for w in self.possible):
            total += end - start
            total -= sum(max(0.0, min(end, b) - max(start, a)) for a, b in definite)
        return total


def _touches(intervals: list[tuple[float, float]], start: float, end: float) -> bool:
    if end <= start:  # the skipped DST hour: take the state at that instant
        return any(a <= start < b for a, b in intervals)
    return any(a < end and start < b for a, b in intervals)


def cell_bounds(day: date, tz: ZoneInfo) -> list[tuple[float, float]]:
    """Unix start/end of the 48 wall-clock half hours of ``day`` (from the local date)."""
    edges = [local_timestamp(day, i // 2, i % 2 * 30, tz) for i in range(CELLS + 1)]
    return list(itertools.pairwise(edges))


@dataclass(frozen=True, slots=True)
class Schedule:
    """A downloaded schedule: the published days of one queue and when it was fetched."""

    received_at: float
    queue: str
    operator: str
    tz: ZoneInfo
    days: Mapping[date, DaySchedule]

    def published(self, day: date) -> bool:
        """The day's schedule is in force (with or without outages)."""
        entry = self.days.get(day)
        return entry is not None and entry.known

    def status(self, day: date) -> DayStatus:
        entry = self.days.get(day)
        return entry.state if entry is not None else DayStatus.NO_DATA

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

    def possible_intervals(self) -> list[tuple[float, float]]:
        """Possible and preliminary outages (not definite ones), merged."""
        return merge(
            (w.start, w.end) for d in self.days.values() for w in (*d.possible, *d.preliminary)
        )

    def next_possible(self, now: float) -> tuple[float, float] | None:
        """The possible (or preliminary) outage in progress, else the next one."""
        return next(((a, b) for a, b in self.possible_intervals() if b > now), None)

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


def hhmm(minutes: int) -> str:
    """Minutes from local midnight as ``HH:MM`` (1440 → ``24:00``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def runs_to_windows(day: date, minutes: list[tuple[int, int]], tz: ZoneInfo) -> tuple[Window, ...]:
    """Windows from (start, end) minute ranges of ``day``: touching ranges joined, ranges that
    vanish in the skipped DST hour dropped (a grid cell 03:00–03:30 on the spring day)."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(minutes):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    windows = []
    for start, end in joined:
        try:
            windows.append(make_window(day, hhmm(start), hhmm(end), tz))
        except ScheduleFormatError:
            continue  # no real length: entirely inside the skipped hour
    return tuple(windows)


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
