"""YASNO (ДТЕК Київські електромережі; Dnipro ДнЕМ and ЦЕК): the app.yasno.ua JSON API, see
PROTOCOLS-2.md §1.2.

``GET …/regions/{region}/dsos/{dso}/planned-outages`` answers one member per group ("1.1" …
"6.2")::

    {"1.1": {"today": {"slots": [{"start": 0, "end": 180, "type": "Definite"}, …],
                       "date": "2025-12-14T00:00:00+02:00", "status": "ScheduleApplies"},
             "tomorrow": {…}, "updatedOn": "2025-12-13T09:32:37+00:00"}}

``start``/``end`` are minutes from local midnight (1440 = next midnight); only ``Definite`` is an
outage. Statuses: ``ScheduleApplies`` (in force), ``WaitingForSchedule`` (not confirmed; its slots
are a preliminary copy), ``EmergencyShutdowns`` (the queue schedule is suspended), ``NoOutages``.
``GET …/probable-outages?regionId=&dsoId=`` is the weekly template of *possible* outages
(``"0"`` = Monday). The day comes from ``date`` (the local date), never from our clock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.outages.fetch import fetch_json
from gridwatch.sources.outages.providers.base import malformed
from gridwatch.sources.outages.schedule import (
    KYIV,
    DaySchedule,
    DayStatus,
    ScheduleFormatError,
    Window,
    runs_to_windows,
)

log = logging.getLogger(__name__)
DEFAULT_URL = "https://app.yasno.ua/api/blackout-service/public/shutdowns"
STATUSES = {
    "ScheduleApplies": DayStatus.PUBLISHED,
    "WaitingForSchedule": DayStatus.WAITING,
    "EmergencyShutdowns": DayStatus.EMERGENCY,
    "NoOutages": DayStatus.NO_OUTAGES,
}
SLOT_TYPES = frozenset({"Definite", "NotPlanned"})
Minutes = list[tuple[int, int]]


def _slots(raw: object, where: str) -> Minutes:
    """The ``Definite`` ranges of a slot list, every slot validated."""
    if not isinstance(raw, list):
        raise ScheduleFormatError(f"{where}: slots is not a list")
    definite: Minutes = []
    for slot in raw:
        if not isinstance(slot, dict):
            raise ScheduleFormatError(f"{where}: slot is not an object: {slot!r}"[:120])
        start, end, kind = slot.get("start"), slot.get("end"), slot.get("type")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            raise ScheduleFormatError(f"{where}: slot start/end are not minutes: {slot!r}"[:120])
        if not 0 <= start < end <= 1440:
            raise ScheduleFormatError(f"{where}: slot {start}-{end} is outside 0..1440")
        if kind not in SLOT_TYPES:
            raise ScheduleFormatError(f"{where}: unknown slot type {kind!r}")
        if kind == "Definite":
            definite.append((start, end))
    return definite


def _stamp(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def parse_day(raw: object, tz: ZoneInfo, updated: float | None) -> DaySchedule:
    if not isinstance(raw, dict):
        raise ScheduleFormatError("day is not an object")
    text = raw.get("date")
    try:
        day = datetime.fromisoformat(text).date() if isinstance(text, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ScheduleFormatError(f"day date {text!r} is not an ISO date-time")
    status = raw.get("status")
    if status not in STATUSES:
        raise ScheduleFormatError(f"{day}: unknown status {status!r}")
    kind = STATUSES[status]
    definite = _slots(raw.get("slots", []), str(day))
    windows: tuple[Window, ...] = ()
    preliminary: tuple[Window, ...] = ()
    if kind is DayStatus.PUBLISHED:
        windows = runs_to_windows(day, definite, tz)
        if not windows:
            kind = DayStatus.NO_OUTAGES
    elif kind is DayStatus.WAITING:
        preliminary = runs_to_windows(day, definite, tz)
    # EmergencyShutdowns: slots are [] and would mean nothing; NoOutages: power on all day.
    return DaySchedule(
        day, windows, approved_at=updated, status=kind, preliminary=preliminary, data_at=updated
    )


def parse_planned(payload: object, group: str, tz: ZoneInfo = KYIV) -> dict[date, DaySchedule]:
    """The days of ``group`` in a planned-outages answer; a group without a member has none."""
    if not isinstance(payload, dict):
        raise ScheduleFormatError("planned outages are not a JSON object")
    member = payload.get(group)
    if member is None:
        return {}
    if not isinstance(member, dict):
        raise ScheduleFormatError(f"group {group}: not an object")
    updated = _stamp(member.get("updatedOn"))
    days = {}
    for key in ("today", "tomorrow"):
        if member.get(key) is not None:
            parsed = parse_day(member[key], tz, updated)
            days[parsed.day] = parsed
    return days


def parse_groups(payload: object) -> frozenset[str]:
    if not isinstance(payload, dict) or not payload:
        raise ScheduleFormatError("planned outages are not a non-empty JSON object")
    return frozenset(str(key) for key in payload)


def parse_probable(payload: object, region: int, dso: int, group: str) -> dict[int, Minutes]:
    """Weekday (0 = Monday) → possible-outage minute ranges of ``group``; {} when absent."""
    if not isinstance(payload, dict):
        raise ScheduleFormatError("probable outages are not a JSON object")
    node: object = payload
    for key in (str(region), "dsos", str(dso), "groups", group, "slots"):
        if not isinstance(node, dict):
            raise ScheduleFormatError(f"probable outages: {key!r} is not under an object")
        node = node.get(key)
        if node is None:
            return {}
    if not isinstance(node, dict):
        raise ScheduleFormatError("probable outages: slots is not an object")
    week: dict[int, Minutes] = {}
    for key, slots in node.items():
        if key not in {"0", "1", "2", "3", "4", "5", "6"}:
            raise ScheduleFormatError(f"probable outages: weekday {key!r} is not 0..6")
        week[int(key)] = _slots(slots, f"probable weekday {key}")
    return week


def with_template(
    days: dict[date, DaySchedule], week: Mapping[int, Minutes], tz: ZoneInfo
) -> dict[date, DaySchedule]:
    """Add the weekly template as ``possible`` to every day the schedule has not suspended."""
    result = {}
    for day, entry in days.items():
        minutes = week.get(day.weekday(), [])
        if minutes and entry.state is not DayStatus.EMERGENCY:
            result[day] = replace(entry, possible=runs_to_windows(day, minutes, tz))
        else:
            result[day] = entry
    return result


class Yasno:
    """The YASNO API for one region and DSO (subclasses fix them)."""

    operator: ClassVar[str] = "yasno"
    tz: ClassVar[ZoneInfo] = KYIV
    region: ClassVar[int] = 25
    dso: ClassVar[int] = 902

    def __init__(self, session: aiohttp.ClientSession, base_url: str | None) -> None:
        self._session = session
        self._base = (base_url or DEFAULT_URL).rstrip("/")
        self._template_error: str | None = None

    async def _planned(self) -> object:
        url = f"{self._base}/regions/{self.region}/dsos/{self.dso}/planned-outages"
        return await fetch_json(self._session, "GET", url)

    async def queues(self) -> frozenset[str]:
        with malformed("YASNO group list"):
            return parse_groups(await self._planned())

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        with malformed("YASNO schedule"):
            days = parse_planned(await self._planned(), queue, self.tz)
        return with_template(days, await self._template(queue), self.tz)

    async def _template(self, queue: str) -> Mapping[int, Minutes]:
        """The possible-outage template; without it the definite schedule still stands."""
        url = f"{self._base}/probable-outages"
        params = {"regionId": str(self.region), "dsoId": str(self.dso)}
        try:
            payload = await fetch_json(self._session, "GET", url, params=params)
            week = parse_probable(payload, self.region, self.dso, queue)
        except (SourceError, ScheduleFormatError) as exc:
            if str(exc) != self._template_error:  # logged once per distinct failure
                log.warning("YASNO possible-outage template unavailable: %s", exc)
            self._template_error = str(exc)
            return {}
        self._template_error = None
        return week


class YasnoKyiv(Yasno):
    operator: ClassVar[str] = "dtek-kem"  # ДТЕК Київські електромережі
    region: ClassVar[int] = 25
    dso: ClassVar[int] = 902


class YasnoDniproDnem(Yasno):
    operator: ClassVar[str] = "dtek-dnem"  # ДТЕК Дніпровські електромережі
    region: ClassVar[int] = 3
    dso: ClassVar[int] = 301


class YasnoDniproCek(Yasno):
    operator: ClassVar[str] = "cek"  # ЦЕК, Central Energy Company (Dnipro)
    region: ClassVar[int] = 3
    dso: ClassVar[int] = 303
