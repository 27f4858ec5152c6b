"""elprisetjustnu.se and its sister sites (hvakosterstrommen.no, elprisenligenu.dk,
sahkonhintatanaan.fi): one static JSON file per area and day, local times with offset."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.prices.http import get_json
from gridwatch.sources.prices.slots import DayPrices, build_day

NAME = "elprisetjustnu"


def day_url(base: str, area: str, day: dt.date) -> str:
    suffix = "" if area == "FI" else f"_{area}"  # the Finnish site has one area, no suffix
    return f"{base}/{day:%Y}/{day:%m-%d}{suffix}.json"


def parse_day(payload: Any, day: dt.date, tz: ZoneInfo, *, area: str, currency: str) -> DayPrices:
    """The day's quarters from a response body; SourceError("payload") when it is not valid."""
    field = f"{currency}_per_kWh"
    if not isinstance(payload, list) or not payload:
        raise SourceError("payload", "expected a non-empty JSON array of price rows")
    entries = []
    for index, row in enumerate(payload):
        try:
            price = row[field]
            start = dt.datetime.fromisoformat(row["time_start"])
            end = dt.datetime.fromisoformat(row["time_end"])
        except (TypeError, KeyError, ValueError) as exc:
            raise SourceError("payload", f"row {index}: missing or bad {exc}") from None
        if start.tzinfo is None or end.tzinfo is None:
            raise SourceError("payload", f"row {index}: time without UTC offset")
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise SourceError("payload", f"row {index}: {field} is not a number")
        entries.append((start.timestamp(), end.timestamp(), float(price)))
    return build_day(day, tz, entries, area=area, currency=currency, provider=NAME)


async def fetch_day(
    session: aiohttp.ClientSession,
    base: str,
    day: dt.date,
    tz: ZoneInfo,
    *,
    area: str,
    currency: str,
) -> DayPrices:
    payload = await get_json(session, day_url(base, area, day))
    return parse_day(payload, day, tz, area=area, currency=currency)
