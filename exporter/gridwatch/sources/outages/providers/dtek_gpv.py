"""DTEK-format ("GPV") JSON from a mirror: ``DisconSchedule.fact`` / ``.preset``, PROTOCOLS-2.md
§1.3 and §1.6.

DTEK's own pages sit behind a bot wall, so ``outages.url`` points at a file that republishes the
page's objects as they are (Baskerville42/outage-data-ua ``data/<region>.json`` for Kyiv, Kyiv
region, Dnipro, Odesa; yaroslav2901/OE_OUTAGE_DATA ``data/<Oblenergo>.json`` for the others)::

    {"lastUpdated": "2025-12-10T07:24:38.105Z",
     "fact": {"data": {"1765317600": {"GPV1.1": {"1": "yes", …, "24": "no"}}},
              "update": "10.12.2025 08:12", "today": 1765317600},
     "preset": {"data": {"GPV1.1": {"1": {"1": "yes", …}, …, "7": {…}}}, …}}

Day keys are Unix seconds of 00:00 Europe/Kyiv; slot "n" is hour n-1…n. Out of season
``fact.data`` is ``[]``. A day after ``fact.today`` whose hours are all ``yes`` is not published
yet (DTEK fills tomorrow with ``yes``) and reads ``waiting``. A day missing hours is ``no_data``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

import aiohttp

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

# value → (first half, second half): "off", "possible" or None (power)
VALUES: dict[str, tuple[str | None, str | None]] = {
    "yes": (None, None),
    "no": ("off", "off"),
    "first": ("off", None),
    "second": (None, "off"),
    "maybe": ("possible", "possible"),
    "mfirst": ("possible", None),
    "msecond": (None, "possible"),
}
HOURS = tuple(str(n) for n in range(1, 25))
_UPDATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})\s*$")
STANDARD = frozenset(f"{q}.{s}" for q in range(1, 7) for s in (1, 2))
BOT_WALL = (
    "HTTP 403 from the mirror (DTEK's own pages answer bot walls to plain HTTP clients): point "
    "outages.url at a mirror that republishes the JSON"
)


def group_key(queue: str) -> str:
    return f"GPV{queue}"


def _halves(hours: object, where: str) -> dict[str, list[tuple[int, int]]] | None:
    """ "off"/"possible" minute ranges of one day; None when the day lacks hours (partial)."""
    if not isinstance(hours, dict):
        raise ScheduleFormatError(f"{where}: hours are not an object")
    unknown = set(hours) - set(HOURS)
    if unknown:
        raise ScheduleFormatError(f"{where}: unknown hour keys {sorted(unknown)}")
    if len(hours) != len(HOURS):
        return None
    ranges: dict[str, list[tuple[int, int]]] = {"off": [], "possible": []}
    for key in HOURS:
        value = hours[key]
        if value not in VALUES:
            raise ScheduleFormatError(f"{where} hour {key}: unknown value {value!r}")
        start = (int(key) - 1) * 60
        for half, state in enumerate(VALUES[value]):
            if state is not None:
                ranges[state].append((start + half * 30, start + half * 30 + 30))
    return ranges


def kyiv_day(key: str, tz: ZoneInfo) -> date:
    """A ``fact.data`` key (Unix seconds of local midnight) → the local date."""
    if not key.isdigit():
        raise ScheduleFormatError(f"day key {key!r} is not Unix seconds")
    moment = datetime.fromtimestamp(int(key), tz)
    if moment.time() != time(0, 0):
        raise ScheduleFormatError(f"day key {key} is not a local midnight ({moment.isoformat()})")
    return moment.date()


def _stamp(payload: Mapping[str, object], fact: Mapping[str, object], tz: ZoneInfo) -> float | None:
    """When the data was last refreshed: the mirror's ``lastUpdated``, else ``fact.update``."""
    last = payload.get("lastUpdated")
    if isinstance(last, str):
        try:
            return datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ScheduleFormatError(f"lastUpdated {last!r} is not ISO") from None
    update = fact.get("update")
    match = _UPDATE.match(update) if isinstance(update, str) else None
    if match is None:
        return None
    d, m, y, hh, mm = (int(g) for g in match.groups())
    return datetime(y, m, d, hh, mm, tzinfo=tz).timestamp()


def _fact(payload: object) -> tuple[Mapping[str, object], Mapping[str, object]]:
    if not isinstance(payload, dict):
        raise ScheduleFormatError("not a JSON object")
    fact = payload.get("fact")
    if not isinstance(fact, dict):
        raise ScheduleFormatError("no 'fact' object")
    data = fact.get("data")
    if data == []:  # off season: an empty array, not an object
        data = {}
    if not isinstance(data, dict):
        raise ScheduleFormatError("fact.data is neither an object nor []")
    return payload, {**fact, "data": data}


def parse_groups(payload: object) -> frozenset[str]:
    """Queues named anywhere in the file (fact days, preset, sch_names), without "GPV"."""
    raw, fact = _fact(payload)
    names: set[str] = set()
    data = fact["data"]
    assert isinstance(data, dict)
    for groups in data.values():
        if isinstance(groups, dict):
            names.update(groups)
    preset = raw.get("preset")
    if isinstance(preset, dict):
        for key in ("data", "sch_names"):
            if isinstance(preset.get(key), dict):
                names.update(preset[key])
    queues = frozenset(n[3:] for n in names if n.startswith("GPV"))
    return queues or STANDARD  # an off-season file may name no group at all


def parse_fact(payload: object, queue: str, tz: ZoneInfo = KYIV) -> dict[date, DaySchedule]:
    raw, fact = _fact(payload)
    stamp = _stamp(raw, fact, tz)
    today_key = fact.get("today")
    today = kyiv_day(str(today_key), tz) if isinstance(today_key, int) else None
    template = _template(raw.get("preset"), queue)
    data = fact["data"]
    assert isinstance(data, dict)
    days: dict[date, DaySchedule] = {}
    for key, groups in data.items():
        day = kyiv_day(key, tz)
        if not isinstance(groups, dict):
            raise ScheduleFormatError(f"{day}: groups are not an object")
        hours = groups.get(group_key(queue))
        if hours is None:
            continue  # no data for this queue that day
        ranges = _halves(hours, f"{day} {group_key(queue)}")
        possible = _possible(day, template, ranges, tz)
        if ranges is None:
            days[day] = DaySchedule(day, (), stamp, status=DayStatus.NO_DATA, data_at=stamp)
            continue
        windows: tuple[Window, ...] = runs_to_windows(day, ranges["off"], tz)
        status = DayStatus.PUBLISHED if windows else DayStatus.NO_OUTAGES
        if not windows and not ranges["possible"] and today is not None and day > today:
            status = DayStatus.WAITING  # DTEK's placeholder for a day not yet issued
        days[day] = DaySchedule(
            day, windows, stamp, status=status, possible=possible, data_at=stamp
        )
    return days


def _template(preset: object, queue: str) -> Mapping[str, object]:
    """The weekly possible-outage template of ``queue`` ("1" = Monday … "7"), {} if absent."""
    if not isinstance(preset, dict) or not isinstance(preset.get("data"), dict):
        return {}
    week = preset["data"].get(group_key(queue))
    if week is None:
        return {}
    if not isinstance(week, dict):
        raise ScheduleFormatError(f"preset {group_key(queue)} is not an object")
    return week


def _possible(
    day: date,
    template: Mapping[str, object],
    ranges: Mapping[str, list[tuple[int, int]]] | None,
    tz: ZoneInfo,
) -> tuple[Window, ...]:
    minutes = list(ranges["possible"]) if ranges is not None else []
    weekday = template.get(str(day.isoweekday()))
    if weekday is not None:
        preset = _halves(weekday, f"preset weekday {day.isoweekday()}")
        if preset is not None:
            if preset["off"]:
                raise ScheduleFormatError(
                    "preset holds definite outages; it only has possible ones"
                )
            minutes += preset["possible"]
    return runs_to_windows(day, minutes, tz)


class DtekGpv:
    """A mirror of DTEK's ``DisconSchedule`` objects (or the same shape from a converter)."""

    operator: ClassVar[str] = "dtek-gpv"
    tz: ClassVar[ZoneInfo] = KYIV
    default_max_age: ClassVar[float | None] = 2 * 86400.0  # svitlo-yeah's staleness rule

    def __init__(self, session: aiohttp.ClientSession, base_url: str | None) -> None:
        if base_url is None:
            # Config validation requires outages.url for this operator; this guards direct use.
            raise ValueError("the dtek-gpv operator needs outages.url (the mirror's JSON file)")
        self._session = session
        self._url = base_url

    async def _get(self) -> object:
        return await fetch_json(self._session, "GET", self._url, forbidden=BOT_WALL)

    async def queues(self) -> frozenset[str]:
        with malformed("GPV file"):
            return parse_groups(await self._get())

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        with malformed("GPV file"):
            return parse_fact(await self._get(), queue, self.tz)
