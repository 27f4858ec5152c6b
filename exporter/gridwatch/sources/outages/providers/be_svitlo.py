"""Prykarpattyaoblenergo (Ivano-Frankivsk): be-svitlo.oe.if.ua, see PROTOCOLS.md §9.

``GET /schedule-by-queue?queue=5.2`` answers a list of day objects::

    [{"eventDate": "25.11.2025",
      "queues": {"4.2": [{"shutdownHours": "16:30-20:00", "from": "16:30", "to": "20:00",
                          "status": 1}]},
      "createdAt": "24.11.2025 19:52", "scheduleApprovedSince": "24.11.2025 19:52"}]

No element for a date, or no entry for the queue, means "no information"; ``queues[code] == []``
means published without outages. Top-level ``[]`` (off-season) is also returned for queues that do
not exist, hence the check against ``POST /gpv-queue-list``. All times are Europe/Kyiv.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.sources.outages.fetch import fetch_json
from gridwatch.sources.outages.providers.base import malformed
from gridwatch.sources.outages.schedule import (
    KYIV,
    DaySchedule,
    ScheduleFormatError,
    Window,
    make_window,
)

DEFAULT_URL = "https://be-svitlo.oe.if.ua"
_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_STAMP = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})(?::\d{2})?\s*$")
# status 1 is the only value seen in the wild; 0 is read as "no outage" by one public bot.
_NO_OUTAGE_STATUS = 0


def parse_queue_list(payload: object) -> frozenset[str]:
    """``[{"id": 1, "code": "1.1", "label": "черга 1.1"}, …]`` → {"1.1", …}."""
    if not isinstance(payload, list) or not payload:
        raise ScheduleFormatError("queue list is not a non-empty JSON array")
    codes = set()
    for item in payload:
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise ScheduleFormatError(f"queue list entry without a code: {item!r}"[:120])
        codes.add(code.strip())
    return frozenset(codes)


def _date(text: object) -> date:
    match = _DATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ScheduleFormatError(f"eventDate {text!r} is not DD.MM.YYYY")
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ScheduleFormatError(f"eventDate {text!r} is not a date") from None


def _stamp(text: object, tz: ZoneInfo) -> float | None:
    """``DD.MM.YYYY HH:mm`` (Kyiv) → Unix time; absent or unreadable stamps are just unknown."""
    match = _STAMP.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    day, month, year, hour, minute = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()
    except ValueError:
        return None


def _windows(day: date, raw: object, tz: ZoneInfo) -> tuple[Window, ...]:
    if not isinstance(raw, list):
        raise ScheduleFormatError(f"windows of {day} are not a list")
    windows = []
    for item in raw:
        if not isinstance(item, dict):
            raise ScheduleFormatError(f"window of {day} is not an object: {item!r}"[:120])
        if item.get("status") == _NO_OUTAGE_STATUS:
            continue
        start, end = item.get("from"), item.get("to")
        if start is None and end is None and isinstance(item.get("shutdownHours"), str):
            start, _, end = item["shutdownHours"].partition("-")
        if not isinstance(start, str) or not isinstance(end, str):
            raise ScheduleFormatError(f"window of {day} without from/to: {item!r}"[:120])
        windows.append(make_window(day, start, end, tz))
    return tuple(sorted(windows, key=lambda w: (w.start, w.end)))


def parse_schedule(payload: object, queue: str, tz: ZoneInfo = KYIV) -> dict[date, DaySchedule]:
    """The published days of ``queue``; raises ScheduleFormatError on a malformed answer.

    Duplicate elements for one date happen; the most recently approved one wins.
    """
    if not isinstance(payload, list):
        raise ScheduleFormatError("schedule is not a JSON array")
    days: dict[date, DaySchedule] = {}
    for element in payload:
        if not isinstance(element, dict):
            raise ScheduleFormatError(f"day element is not an object: {element!r}"[:120])
        day = _date(element.get("eventDate"))
        queues = element.get("queues")
        if not isinstance(queues, dict):
            raise ScheduleFormatError(f"day {day}: 'queues' is not an object")
        if queue not in queues:
            continue  # no data for this queue on that day
        parsed = DaySchedule(
            day=day,
            windows=_windows(day, queues[queue], tz),
            approved_at=_stamp(element.get("scheduleApprovedSince"), tz),
            created_at=_stamp(element.get("createdAt"), tz),
        )
        previous = days.get(day)
        if previous is None or (parsed.approved_at or 0) >= (previous.approved_at or 0):
            days[day] = parsed
    return days


class BeSvitlo:
    """The be-svitlo API of Prykarpattyaoblenergo."""

    operator: ClassVar[str] = "prykarpattyaoblenergo"
    tz: ClassVar[ZoneInfo] = KYIV

    def __init__(self, session: aiohttp.ClientSession, base_url: str | None) -> None:
        self._session = session
        self._base = (base_url or DEFAULT_URL).rstrip("/")

    async def queues(self) -> frozenset[str]:
        # A bodiless POST is what the operator's own page sends on load.
        payload = await fetch_json(self._session, "POST", f"{self._base}/gpv-queue-list")
        with malformed("queue list"):
            return parse_queue_list(payload)

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        url = f"{self._base}/schedule-by-queue"
        payload = await fetch_json(self._session, "GET", url, params={"queue": queue})
        with malformed("schedule"):
            return parse_schedule(payload, queue, self.tz)
