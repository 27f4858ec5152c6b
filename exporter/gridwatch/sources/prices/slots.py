"""Quarter-hour price slots keyed by absolute UTC start, grouped into local days.

A local day has 92, 96 or 100 quarters (spring DST, normal, autumn DST). Hourly data (all days
before 2025-10-01) is expanded to four equal quarters, so everything downstream sees quarters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gridwatch.core.source import SourceError

QUARTER = 900


@dataclass(frozen=True, slots=True)
class DayPrices:
    """Spot prices (currency per kWh, excl. VAT) of one local day, one per quarter hour."""

    day: dt.date
    area: str
    currency: str
    provider: str
    starts: tuple[float, ...]  # UTC start of each quarter (Unix seconds)
    spot: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.starts)


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[float, float]:
    """Unix start and end of a local day (23, 24 or 25 hours long)."""
    start = dt.datetime.combine(day, dt.time(0), tz).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).timestamp()
    return start, end


def local_day(ts: float, tz: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def slot_start(ts: float) -> float:
    """Start of the quarter containing ``ts``; every European offset is whole quarters."""
    return ts - ts % QUARTER


def quarters_in_day(day: dt.date, tz: ZoneInfo) -> int:
    start, end = day_bounds(day, tz)
    return round((end - start) / QUARTER)


def build_day(
    day: dt.date,
    tz: ZoneInfo,
    entries: Iterable[tuple[float, float, float]],
    *,
    area: str,
    currency: str,
    provider: str,
) -> DayPrices:
    """Quarters of ``day`` from (start, end, price) entries of 15 or 60 minutes.

    Entries outside the day are ignored (a provider's day may be wider); the day itself must be
    covered exactly once, or the payload is rejected rather than partly trusted (SourceError
    "payload": the source goes down with the reason).
    """
    first, last = day_bounds(day, tz)
    prices: dict[float, float] = {}
    for start, end, price in entries:
        length = end - start
        if length not in (QUARTER, 4 * QUARTER) or start % QUARTER:
            raise SourceError(
                "payload", f"entry {_iso(start)}–{_iso(end)} is not a 15- or 60-minute slot"
            )
        if end <= first or start >= last:
            continue
        for q in range(int(length // QUARTER)):
            at = start + q * QUARTER
            if at in prices:
                raise SourceError("payload", f"slot {_iso(at)} appears twice")
            prices[at] = price
    expected = [first + i * QUARTER for i in range(round((last - first) / QUARTER))]
    missing = [at for at in expected if at not in prices]
    if missing:
        raise SourceError(
            "payload",
            f"{len(missing)} of {len(expected)} quarters of {day} missing "
            f"(first {_iso(missing[0])})",
        )
    if len(prices) != len(expected):
        raise SourceError("payload", f"slots outside {day} overlap its quarters")
    return DayPrices(
        day=day,
        area=area,
        currency=currency,
        provider=provider,
        starts=tuple(expected),
        spot=tuple(prices[at] for at in expected),
    )


def hourly_means(starts: Sequence[float], spot: Sequence[float], tz: ZoneInfo) -> tuple[float, ...]:
    """Each quarter's price replaced by the mean of its local clock hour (hourly contracts)."""
    groups: dict[float, list[int]] = {}
    for index, start in enumerate(starts):
        groups.setdefault(hour_start(start, tz), []).append(index)
    result = list(spot)
    for indexes in groups.values():
        mean = sum(spot[i] for i in indexes) / len(indexes)
        for i in indexes:
            result[i] = mean
    return tuple(result)


def hour_start(ts: float, tz: ZoneInfo) -> float:
    """Start of the local clock hour containing ``ts`` (a 30-min offset zone would differ)."""
    local = dt.datetime.fromtimestamp(ts, tz)
    return ts - local.minute * 60 - local.second - local.microsecond / 1e6


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
