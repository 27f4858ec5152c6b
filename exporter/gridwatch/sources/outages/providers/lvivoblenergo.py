"""Lvivoblenergo: the text schedule in ``api.loe.lviv.ua``, see PROTOCOLS-2.md §1.4.

``GET /api/menus?page=1&type=photo-grafic`` answers a Hydra collection (sometimes a bare list)
whose menu has ``menuItems[]``, each with ``rawHtml`` text such as::

    Графік погодинних відключень на 01.12.2025
    Інформація станом на 09:14 01.12.2025
    Група 1.1. Електроенергії немає з 10:30 до 12:30, з 19:30 до 22:00.
    Група 2.1. Електроенергія є.

``24:00`` ends a day. There is no "possible" state. A group missing from a day's text is no data.
No real full answer has been captured yet: the parser is strict, so a new wording is an error
with the line quoted, not a guess.
"""

from __future__ import annotations

import html
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
    DayStatus,
    ScheduleFormatError,
    make_window,
)

DEFAULT_URL = "https://api.loe.lviv.ua"
PATH = "/api/menus"
PARAMS = {"page": "1", "type": "photo-grafic"}
STANDARD = frozenset(f"{q}.{s}" for q in range(1, 7) for s in (1, 2))
_TAG = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"Графік погодинних відключень на\s+(\d{2})\.(\d{2})\.(\d{4})")
_AS_OF = re.compile(r"станом на\s+(\d{1,2}):(\d{2})\s+(\d{2})\.(\d{2})\.(\d{4})")
_GROUP = re.compile(r"^Група\s+(\d{1,2}\.\d{1,2})\.\s*(.*)$")
_ON = re.compile(r"^Електроенергія\s+є\.?$")
_OFF = re.compile(r"^Електроенергії\s+немає\s+(.*?)\.?$")
_RANGE = re.compile(r"^з\s+(\d{1,2}:\d{2})\s+до\s+(\d{1,2}:\d{2})$")


def text_lines(raw_html: str) -> list[str]:
    text = _TAG.sub("\n", raw_html.replace("<br>", "\n"))
    return [" ".join(line.split()) for line in html.unescape(text).splitlines() if line.strip()]


def parse_text(
    raw_html: str, tz: ZoneInfo = KYIV
) -> tuple[date, float | None, dict[str, DaySchedule]] | None:
    """One menu item's day: (date, as-of time, group → day); None when it holds no schedule."""
    lines = text_lines(raw_html)
    title = next((m for m in map(_TITLE.search, lines) if m), None)
    if title is None:
        return None  # an item with only an image, or another text
    d, m, y = (int(g) for g in title.groups())
    try:
        day = date(y, m, d)
    except ValueError:
        raise ScheduleFormatError(f"schedule date {title.group(0)!r} is not a date") from None
    as_of_match = next((a for a in map(_AS_OF.search, lines) if a), None)
    as_of = None
    if as_of_match is not None:
        hh, mm, ad, am, ay = (int(g) for g in as_of_match.groups())
        try:
            as_of = datetime(ay, am, ad, hh, mm, tzinfo=tz).timestamp()
        except ValueError:
            raise ScheduleFormatError(
                f"'as of' time {as_of_match.group(0)!r} is not a time"
            ) from None
    groups: dict[str, DaySchedule] = {}
    for line in lines:
        match = _GROUP.match(line)
        if match is None:
            continue
        group, rest = match.groups()
        if _ON.match(rest):
            groups[group] = DaySchedule(day, (), as_of, status=DayStatus.NO_OUTAGES, data_at=as_of)
            continue
        off = _OFF.match(rest)
        if off is None:
            raise ScheduleFormatError(f"unknown wording for group {group}: {line!r}"[:160])
        windows = []
        for part in off.group(1).split(","):
            span = _RANGE.match(part.strip())
            if span is None:
                raise ScheduleFormatError(
                    f"group {group}: {part.strip()!r} is not 'з HH:MM до HH:MM'"
                )
            windows.append(make_window(day, span.group(1), span.group(2), tz))
        windows.sort(key=lambda w: w.start)
        groups[group] = DaySchedule(day, tuple(windows), as_of, data_at=as_of)
    return day, as_of, groups


def menu_items(payload: object) -> list[Mapping[str, object]]:
    """``menuItems`` of every menu, from a Hydra collection or a bare list."""
    members = payload.get("hydra:member") if isinstance(payload, dict) else payload
    if not isinstance(members, list):
        raise ScheduleFormatError("neither a Hydra collection nor a list of menus")
    items: list[Mapping[str, object]] = []
    for menu in members:
        if not isinstance(menu, dict) or not isinstance(menu.get("menuItems"), list):
            raise ScheduleFormatError("a menu without menuItems")
        items.extend(i for i in menu["menuItems"] if isinstance(i, dict))
    return items


def parse_menus(payload: object, tz: ZoneInfo = KYIV) -> dict[date, dict[str, DaySchedule]]:
    """Date → group → day; for a date given twice the later "станом на" wins."""
    found: dict[date, tuple[float, dict[str, DaySchedule]]] = {}
    for item in menu_items(payload):
        raw = item.get("rawHtml")
        if not isinstance(raw, str):
            continue
        parsed = parse_text(raw, tz)
        if parsed is None:
            continue
        day, as_of, groups = parsed
        if day not in found or (as_of or 0) >= found[day][0]:
            found[day] = (as_of or 0, groups)
    return {day: groups for day, (_, groups) in found.items()}


class Lvivoblenergo:
    operator: ClassVar[str] = "lvivoblenergo"
    tz: ClassVar[ZoneInfo] = KYIV

    def __init__(self, session: aiohttp.ClientSession, base_url: str | None) -> None:
        self._session = session
        self._base = (base_url or DEFAULT_URL).rstrip("/")

    async def _menus(self) -> dict[date, dict[str, DaySchedule]]:
        payload = await fetch_json(self._session, "GET", self._base + PATH, params=PARAMS)
        with malformed("Lvivoblenergo schedule"):
            return parse_menus(payload, self.tz)

    async def queues(self) -> frozenset[str]:
        named = {g for groups in (await self._menus()).values() for g in groups}
        return frozenset(named) | STANDARD  # out of season the text names no group

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        menus = await self._menus()
        return {day: groups[queue] for day, groups in menus.items() if queue in groups}
