"""`GET /api/v1/prices?date=YYYY-MM-DD`: a day's slots with spot and total price, as JSON.

Used by the Telegram bot and by users; answers from the price book (memory or state file),
never from the network.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from aiohttp import web

from gridwatch.sources.prices.analysis import slot_labels
from gridwatch.sources.prices.book import PriceBook


def routes(book: PriceBook, clock: Callable[[], float] = time.time) -> list[web.RouteDef]:
    async def prices(request: web.Request) -> web.Response:
        text = request.query.get("date")
        if text is None:
            day = dt.datetime.fromtimestamp(clock(), book.tz).date()
        else:
            try:
                day = dt.date.fromisoformat(text)
                if len(text) != 10:
                    raise ValueError
            except ValueError:
                return web.json_response(
                    {"error": f"bad date {text!r}: use YYYY-MM-DD"}, status=400
                )
        prices_of_day = book.day(day)
        if prices_of_day is None:
            return web.json_response(
                {"error": f"no prices known for {day.isoformat()} in {book.area}"}, status=404
            )
        slots = book.slots(day)
        labels = slot_labels([s.start for s in slots], book.tz)
        body = {
            "date": day.isoformat(),
            "area": book.area,
            "currency": book.currency,
            "unit": f"{book.currency}/kWh",
            "timezone": str(book.tz),
            "resolution": "hour" if book.hourly else "quarter",
            "provider": prices_of_day.provider,
            "includes": "total = spot and every per-kWh fee and tax, incl. VAT"
            if book.tariff is not None
            else "spot only (no tariff configured), excl. VAT",
            "slots": [
                {
                    "start_utc": _utc(s.start),
                    "end_utc": _utc(s.start + 900),
                    "start_local": dt.datetime.fromtimestamp(s.start, book.tz).isoformat(),
                    "label": label,
                    "spot": s.spot,
                    "quarter_spot": s.quarter_spot,
                    "total": s.total,
                    "export": s.export,
                }
                for s, label in zip(slots, labels, strict=True)
            ],
        }
        return web.json_response(body)

    return [web.get("/api/v1/prices", prices)]


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")
