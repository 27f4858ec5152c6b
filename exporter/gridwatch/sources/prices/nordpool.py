"""Nord Pool data portal: ``DayAheadPriceIndices`` (15-min), currency/MWh, UTC timestamps.

A Nord Pool delivery day is a CET day; a site in another zone needs the CET days that overlap
its local day, and keeps only its own quarters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.prices.http import NotPublishedError, get_json
from gridwatch.sources.prices.slots import DayPrices, build_day, day_bounds

NAME = "nordpool"
CET = ZoneInfo("Europe/Berlin")


def delivery_days(day: dt.date, tz: ZoneInfo) -> list[dt.date]:
    start, end = day_bounds(day, tz)
    first = dt.datetime.fromtimestamp(start, CET).date()
    last = dt.datetime.fromtimestamp(end - 1, CET).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def parse_entries(payload: Any, area: str, currency: str) -> list[tuple[float, float, float]]:
    """(start, end, price per kWh) from a DayAheadPriceIndices or DayAheadPrices body."""
    if not isinstance(payload, dict):
        raise SourceError("payload", "expected a JSON object")
    got = payload.get("currency")
    if got is not None and got != currency:
        raise SourceError("payload", f"prices in {got}, expected {currency}")
    rows = payload.get("multiIndexEntries", payload.get("multiAreaEntries"))
    if rows is None:
        raise SourceError("payload", "no multiIndexEntries in the answer")
    if not isinstance(rows, list):
        raise SourceError("payload", "multiIndexEntries is not a list")
    if not rows:
        raise NotPublishedError("no entries yet")
    entries = []
    for index, row in enumerate(rows):
        try:
            start = dt.datetime.fromisoformat(row["deliveryStart"])
            end = dt.datetime.fromisoformat(row["deliveryEnd"])
            price = row["entryPerArea"][area]
        except (TypeError, KeyError, ValueError) as exc:
            raise SourceError("payload", f"entry {index}: missing or bad {exc}") from None
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise SourceError("payload", f"entry {index}: price for {area} is not a number")
        entries.append((start.timestamp(), end.timestamp(), float(price) / 1000.0))  # per MWh
    return entries


def parse_day(
    payloads: list[Any], day: dt.date, tz: ZoneInfo, *, area: str, currency: str
) -> DayPrices:
    entries = [e for payload in payloads for e in parse_entries(payload, area, currency)]
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
    payloads = []
    for delivery in delivery_days(day, tz):
        params = {
            "date": delivery.isoformat(),
            "market": "DayAhead",
            "indexNames": area,
            "currency": currency,
            "resolutionInMinutes": "15",
        }
        payloads.append(
            await get_json(
                session,
                f"{base}/DayAheadPriceIndices",
                params,
                not_published=frozenset({204, 404}),
            )
        )
    return parse_day(payloads, day, tz, area=area, currency=currency)
