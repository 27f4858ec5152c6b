"""Day-ahead price server on loopback, in the elprisetjustnu.se and Nord Pool wire formats.

Prices come from a deterministic synthetic curve (morning and evening peaks, a midday solar dip
that goes negative on some sunny days), quarter-hourly from 2025-10-01 and hourly before, with
92/96/100 quarters on DST days. Tomorrow is "not published" (404 / 204) before 13:00 CET on the
simulator's clock, as on the real services. Tests can override any day's answer, break a
provider, and count requests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from gridwatch.sim.service import WebService

__all__ = ["PriceCurve", "PriceSimulator"]

CET = ZoneInfo("Europe/Berlin")
QUARTER_GO_LIVE = dt.date(2025, 10, 1)
PROVIDERS = ("elprisetjustnu", "nordpool")
MODES = ("http500", "garbage", "truncated", "timeout", "forbidden", "not_found", "rate_limited")
# EUR per kWh around which each area's prices move, and the local currency's rate.
_BASE_EUR = {"SE1": 0.025, "SE2": 0.03, "SE3": 0.06, "SE4": 0.085, "FI": 0.055, "DK1": 0.085}
_EXR = {"SE": 11.05, "NO": 11.7, "DK": 7.46, "FI": 1.0}
_CURRENCY = {"SE": "SEK", "NO": "NOK", "DK": "DKK", "FI": "EUR"}


class PriceCurve:
    """Plausible spot prices per (area, day); the same seed always gives the same prices."""

    def __init__(self, seed: int = 1, tz: ZoneInfo = CET) -> None:
        self.seed = seed
        self.tz = tz

    def day_entries(self, area: str, day: dt.date) -> list[tuple[float, float, float]]:
        """(start, end, EUR per kWh) for the local day: quarters, or hours before go-live."""
        rng = random.Random(f"{self.seed}/{area}/{day.isoformat()}")
        base = _BASE_EUR.get(area, 0.05) * rng.uniform(0.5, 1.6)
        sunny = rng.random() < 0.35
        weekend = day.weekday() >= 5
        step = 900 if day >= QUARTER_GO_LIVE else 3600
        start = dt.datetime.combine(day, dt.time(0), self.tz).timestamp()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz).timestamp()
        entries = []
        t = start
        while t < end:
            local = dt.datetime.fromtimestamp(t, self.tz)
            h = local.hour + local.minute / 60
            shape = (
                0.55
                + 0.6 * math.exp(-((h - 8.0) ** 2) / 3.0) * (0.6 if weekend else 1.0)
                + 0.8 * math.exp(-((h - 18.5) ** 2) / 4.0)
                - (1.1 if sunny else 0.35) * math.exp(-((h - 13.0) ** 2) / 5.0)
            )
            price = base * shape + rng.gauss(0, base * 0.05)
            entries.append((t, t + step, round(price, 5)))
            t += step
        return entries


@dataclass
class _Override:
    status: int
    body: bytes


class PriceSimulator(WebService):
    """Serves ``/elprisetjustnu/api/v1/prices/…`` and ``/nordpool/api/…`` on 127.0.0.1."""

    peer = "the price simulator"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        publish_at: dt.time = dt.time(13, 0),
    ) -> None:
        super().__init__(host=host, port=port)
        self.clock = clock
        self.curve = PriceCurve(seed)
        self.publish_at = publish_at
        self.requests: Counter[str] = Counter()  # provider → requests answered
        self.log: list[tuple[str, str]] = []  # (provider, delivery day) in order
        self.user_agents: set[str] = set()
        self._overrides: dict[tuple[str, str, str], _Override] = {}
        self._broken: dict[str, str] = {}
        self.hang_seconds = 30.0  # how long the "timeout" mode keeps a request waiting
        self.retry_after = 600  # the Retry-After seconds of the "rate_limited" mode (429)

    # -- control --------------------------------------------------------------------------------

    @property
    def elprisetjustnu_url(self) -> str:
        return f"http://{self.host}:{self.port}/elprisetjustnu/api/v1/prices"

    @property
    def nordpool_url(self) -> str:
        return f"http://{self.host}:{self.port}/nordpool/api"

    def break_provider(self, provider: str, mode: str | None) -> None:
        """Make every answer of ``provider`` fail (``MODES``), or heal it with None."""
        if provider not in PROVIDERS or (mode is not None and mode not in MODES):
            raise ValueError(f"unknown provider {provider!r} or mode {mode!r}")
        if mode is None:
            self._broken.pop(provider, None)
        else:
            self._broken[provider] = mode

    def serve(
        self, provider: str, day: dt.date, area: str, body: bytes | str, status: int = 200
    ) -> None:
        """Answer this exact body for one (provider, delivery day, area)."""
        raw = body.encode() if isinstance(body, str) else body
        self._overrides[provider, day.isoformat(), area] = _Override(status, raw)

    def published(self, day: dt.date) -> bool:
        now = dt.datetime.fromtimestamp(self.clock(), CET)
        if day <= now.date():
            return True
        return day == now.date() + dt.timedelta(days=1) and now.time() >= self.publish_at

    # -- wire formats ---------------------------------------------------------------------------

    def elprisetjustnu_body(self, area: str, day: dt.date) -> list[dict[str, object]]:
        country = area[:2]
        exr = _EXR[country]
        rows: list[dict[str, object]] = []
        for start, end, eur in self.curve.day_entries(area, day):
            row: dict[str, object] = {}
            if country != "FI":
                row[f"{_CURRENCY[country]}_per_kWh"] = round(eur * exr, 5)
            row.update(
                {
                    "EUR_per_kWh": eur,
                    "EXR": exr,
                    "time_start": _local_iso(start),
                    "time_end": _local_iso(end),
                }
            )
            rows.append(row)
        return rows

    def nordpool_body(
        self, area: str, day: dt.date, currency: str, *, indices: bool = True
    ) -> dict[str, object]:
        exr = 1.0 if currency == "EUR" else _EXR.get(area[:2], 11.0)
        curve = PriceCurve(self.curve.seed, CET)  # Nord Pool days are CET delivery days
        entries = [
            {
                "deliveryStart": _utc_iso(start),
                "deliveryEnd": _utc_iso(end),
                "entryPerArea": {area: round(eur * exr * 1000, 2)},
            }
            for start, end, eur in curve.day_entries(area, day)
        ]
        body: dict[str, object] = {
            "deliveryDateCET": day.isoformat(),
            "version": 3,
            "updatedAt": _utc_iso(
                dt.datetime.combine(day - dt.timedelta(days=1), self.publish_at, CET).timestamp()
            ),
            "market": "DayAhead",
            "currency": currency,
            "areaStates": [{"state": "Final", "areas": [area]}],
        }
        if indices:
            body |= {
                "indexNames": [area],
                "resolutionInMinutes": 15 if day >= QUARTER_GO_LIVE else 60,
                "multiIndexEntries": entries,
            }
        else:
            body |= {"deliveryAreas": [area], "multiAreaEntries": entries}
        return body

    # -- HTTP -----------------------------------------------------------------------------------

    async def _elprisetjustnu(self, request: web.Request) -> web.StreamResponse:
        self.user_agents.add(request.headers.get("User-Agent", ""))
        name = request.match_info["file"].removesuffix(".json")
        date_part, _, area = name.partition("_")
        area = area or "FI"
        try:
            day = dt.date.fromisoformat(f"{request.match_info['year']}-{date_part}")
        except ValueError:
            return web.Response(status=404, text="Not Found")
        return await self._answer("elprisetjustnu", day, area, None)

    async def _nordpool(self, request: web.Request) -> web.StreamResponse:
        self.user_agents.add(request.headers.get("User-Agent", ""))
        indices = request.path.endswith("DayAheadPriceIndices")
        q = request.query
        area = q.get("indexNames" if indices else "deliveryArea", "")
        try:
            day = dt.date.fromisoformat(q.get("date", ""))
        except ValueError:
            return web.json_response({"message": "Unauthorized"}, status=401)
        if not area or q.get("market") != "DayAhead":
            return web.json_response({"message": "Unauthorized"}, status=401)
        return await self._answer("nordpool", day, area, (q.get("currency", "EUR"), indices))

    async def _answer(
        self, provider: str, day: dt.date, area: str, nordpool: tuple[str, bool] | None
    ) -> web.StreamResponse:
        self.requests[provider] += 1
        self.log.append((provider, day.isoformat()))
        mode = self._broken.get(provider)
        if mode == "timeout":
            await asyncio.sleep(self.hang_seconds)
        if mode == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if mode == "forbidden":
            return web.Response(status=403, text="Forbidden")
        if mode == "not_found":
            return web.Response(status=404, text="Not Found")
        if mode == "rate_limited":
            headers = {"Retry-After": str(self.retry_after)}
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        override = self._overrides.get((provider, day.isoformat(), area))
        if override is not None:
            return web.Response(
                status=override.status, body=override.body, content_type="application/json"
            )
        if not self.published(day):
            if nordpool is not None:
                return web.Response(status=204)
            return web.Response(status=404, text="Not Found")
        if nordpool is None:
            body = json.dumps(self.elprisetjustnu_body(area, day), separators=(",", ":"))
        else:
            body = json.dumps(self.nordpool_body(area, day, nordpool[0], indices=nordpool[1]))
        if mode == "garbage":
            body = "<html>upstream glitch</html>"
        elif mode == "truncated":
            body = body[: len(body) // 2]
        return web.Response(text=body, content_type="application/json")

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/elprisetjustnu/api/v1/prices/{year:\\d{4}}/{file}", self._elprisetjustnu)
        router.add_get("/nordpool/api/DayAheadPriceIndices", self._nordpool)
        router.add_get("/nordpool/api/DayAheadPrices", self._nordpool)


def _local_iso(ts: float) -> str:
    # elprisetjustnu writes Swedish local time with its offset, e.g. 2025-10-12T00:15:00+02:00
    return dt.datetime.fromtimestamp(ts, CET).isoformat()


def _utc_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
