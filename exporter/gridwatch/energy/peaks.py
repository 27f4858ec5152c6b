"""Effektavgift: hourly average power per local clock hour and the month's billed peaks.

An hour's average power in kW equals its energy in kWh. The rule (PROTOCOLS.md §4.2) picks the
N highest qualifying hours of the month — optionally at most one per day, only in some months,
on workdays, inside an hour window — with night hours weighted (e.g. ½ at Ellevio). The fee is
the price per kW times the mean of those N (of fewer, early in the month).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from gridwatch.energy.config import CapacityFeeConfig
from gridwatch.energy.holidays import is_workday

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Peak:
    start: float  # Unix start of the clock hour
    watts: float  # weighted hourly average power, as the rule counts it


@dataclass(slots=True)
class _MeterHours:
    month: str = ""  # "YYYY-MM" local
    hours: dict[float, float] = field(default_factory=dict)  # hour start → kWh


class CapacityPeaks:
    def __init__(
        self,
        rule: CapacityFeeConfig,
        tz: ZoneInfo,
        price_per_kw: Callable[[int], float | None] = lambda _month: None,
    ) -> None:
        self.rule = rule
        self._tz = tz
        self._price_per_kw = price_per_kw
        self._extra = frozenset(rule.extra_holidays)
        self._meters: dict[str, _MeterHours] = {}
        self._weights: dict[float, float | None] = {}  # hour start → weight, None = not counted

    # -- accumulation ---------------------------------------------------------------------------

    def track(self, meter: str) -> None:
        """Know this meter before its first import: its hour so far is 0 W, its fee 0."""
        self._meters.setdefault(meter, _MeterHours())

    def add(self, meter: str, slot: float, kwh: float) -> None:
        """Imported energy of one quarter (or part of one)."""
        local = dt.datetime.fromtimestamp(slot, self._tz)
        hour = slot - local.minute * 60 - local.second
        month = f"{local.year:04d}-{local.month:02d}"
        state = self._meters.setdefault(meter, _MeterHours())
        if month > state.month:
            state.month, state.hours = month, {}
        elif month < state.month:
            return  # a late piece of last month: its fee is settled
        state.hours[hour] = state.hours.get(hour, 0.0) + kwh

    # -- the rule -------------------------------------------------------------------------------

    def weight(self, hour: float) -> float | None:
        """How an hour counts: 1, the night weight, or None when the rule ignores it."""
        if hour in self._weights:
            return self._weights[hour]
        rule = self.rule
        local = dt.datetime.fromtimestamp(hour, self._tz)
        result: float | None = 1.0
        if (
            local.month not in rule.months
            or (
                rule.weekdays_only
                and not (
                    is_workday(local.date(), self._extra)
                    if rule.exclude_holidays
                    else local.weekday() < 5
                )
            )
            or (rule.hours is not None and not rule.hours.contains(local.hour))
        ):
            result = None
        elif rule.night_hours.contains(local.hour):
            result = rule.night_weight
        if len(self._weights) > 5000:
            self._weights.clear()
        self._weights[hour] = result
        return result

    def peaks(self, meter: str, now: float) -> list[Peak]:
        """The month's counted hours, highest first (complete hours only)."""
        state = self._meters.get(meter)
        if state is None or state.month != self._month(now):
            return []
        candidates = []
        for hour, kwh in state.hours.items():
            weight = self.weight(hour)
            if weight is not None and hour + HOUR <= now:
                candidates.append(Peak(hour, kwh * 1000.0 * weight))
        candidates.sort(key=lambda p: (-p.watts, p.start))
        if self.rule.distinct_days:
            seen: set[dt.date] = set()
            distinct = []
            for peak in candidates:
                day = dt.datetime.fromtimestamp(peak.start, self._tz).date()
                if day not in seen:
                    seen.add(day)
                    distinct.append(peak)
            candidates = distinct
        return candidates[: self.rule.peaks]

    def billed_watts(self, meter: str, now: float) -> float | None:
        """Mean of the counted peaks so far; None before the first counted hour."""
        peaks = self.peaks(meter, now)
        return sum(p.watts for p in peaks) / len(peaks) if peaks else None

    def fee(self, meter: str, now: float) -> float | None:
        """This month's capacity fee so far, incl. VAT (0 before the first counted hour)."""
        month = dt.datetime.fromtimestamp(now, self._tz).month
        price = self._price_per_kw(month)
        if price is None or meter not in self._meters:
            return None
        if month not in self.rule.months:
            return 0.0
        billed = self.billed_watts(meter, now)
        return 0.0 if billed is None else price * billed / 1000.0

    def current_hour_watts(self, meter: str, now: float) -> float | None:
        """Energy so far in the current clock hour ÷ 1 h: what this hour counts as if the rest
        of it used nothing."""
        state = self._meters.get(meter)
        if state is None:
            return None
        local = dt.datetime.fromtimestamp(now, self._tz)
        hour = now - local.minute * 60 - local.second - local.microsecond / 1e6
        hour = float(round(hour))
        return state.hours.get(hour, 0.0) * 1000.0

    def meters(self) -> list[str]:
        return sorted(self._meters)

    def _month(self, ts: float) -> str:
        local = dt.datetime.fromtimestamp(ts, self._tz)
        return f"{local.year:04d}-{local.month:02d}"

    # -- persistence ----------------------------------------------------------------------------

    def state(self, meter: str) -> dict[str, Any] | None:
        hours = self._meters.get(meter)
        if hours is None:
            return None
        return {"month": hours.month, "hours": [[h, kwh] for h, kwh in hours.hours.items()]}

    def restore(self, meter: str, data: dict[str, Any]) -> None:
        self._meters[meter] = _MeterHours(
            str(data["month"]), {float(h): float(kwh) for h, kwh in data["hours"]}
        )
