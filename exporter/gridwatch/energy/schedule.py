"""Price schedules: which quarters each switchable load runs in, and why.

A pure function of the known prices and "now": the exporter calls it at every scrape and for
its JSON API, so a day of prices arriving (tomorrow at 13:00 CET) re-plans by itself, and two
calls with the same prices give the same plan — a restart changes nothing.

Quarters are absolute UTC starts; windows are local wall-clock times in the site's zone, so a
22:00–07:00 window is 32 quarters on the spring DST night, 40 on the autumn one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from gridwatch.energy.automation_config import LoadConfig

QUARTER = 900.0

# Why a quarter is on or off (a bounded metric label).
Reason = Literal[
    "cheapest",  # among the N cheapest quarters of its window
    "below",  # price below on_below
    "above",  # price above off_above: off whatever else says
    "not_chosen",  # in the window, not among the cheapest
    "outside",  # outside every window, no on_below
    "waiting",  # its window's prices are not all published yet (off until they are)
    "fallback",  # no price for this quarter once it is due: the config's fallback
]
REASONS: tuple[Reason, ...] = (
    "cheapest",
    "below",
    "above",
    "not_chosen",
    "outside",
    "waiting",
    "fallback",
)

PriceOf = Callable[[float], float | None]  # quarter start → price per kWh, None if unknown


@dataclass(frozen=True, slots=True)
class Decision:
    start: float
    on: bool
    reason: Reason
    price: float | None


def local_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> float:
    """The instant of wall-clock ``at`` on ``day``; a time skipped by DST moves forward to the
    first valid one, a repeated one is its first pass."""
    naive = dt.datetime.combine(day, at)
    when = naive.replace(tzinfo=tz)
    back = dt.datetime.fromtimestamp(when.timestamp(), tz).replace(tzinfo=None)
    if back != naive:  # in the spring gap: zoneinfo picked a time that does not exist
        when = when.replace(fold=1)
    return when.timestamp()


def windows(
    load: LoadConfig, first: dt.date, last: dt.date, tz: ZoneInfo
) -> Iterator[tuple[float, float]]:
    """The load's cheapest-quarter windows that start on local days ``first`` … ``last``."""
    rule = load.cheapest
    if rule is None:
        return
    day = first
    while day <= last:
        start = local_instant(day, rule.window.start, tz)
        end_day = day + dt.timedelta(days=1) if rule.window.end <= rule.window.start else day
        end = local_instant(end_day, rule.window.end, tz)
        if load.latest_finish is not None:
            # The latest finish on the first day it falls inside the window.
            for finish_day in (day, day + dt.timedelta(days=1)):
                finish = local_instant(finish_day, load.latest_finish, tz)
                if start < finish <= end:
                    end = finish
                    break
        yield start, end
        day += dt.timedelta(days=1)


def choose(prices: dict[float, float], count: int, run: int) -> set[float]:
    """``count`` quarters of the cheapest, in contiguous runs of ``run`` quarters (the last run
    may be longer: runs are whole); greedy by run mean, ties to the earlier run."""
    starts = sorted(prices)
    chosen: set[float] = set()
    run = max(1, min(run, len(starts)))
    while len(chosen) < count and len(chosen) < len(starts):
        best: tuple[float, int] | None = None
        for i in range(len(starts) - run + 1):
            block = starts[i : i + run]
            if block[-1] - block[0] != (run - 1) * QUARTER or any(s in chosen for s in block):
                continue
            mean = sum(prices[s] for s in block) / run
            if best is None or mean < best[0] - 1e-12:
                best = (mean, i)
        if best is None:
            # No whole run left: take the cheapest single quarters that remain.
            for s in sorted((s for s in starts if s not in chosen), key=lambda s: (prices[s], s)):
                if len(chosen) >= count:
                    break
                chosen.add(s)
            break
        chosen.update(starts[best[1] : best[1] + run])
    return chosen


def plan(
    load: LoadConfig, price_of: PriceOf, quarters: list[float], now: float, tz: ZoneInfo
) -> list[Decision]:
    """A decision for each quarter in ``quarters`` (sorted starts)."""
    if not quarters:
        return []
    first = dt.datetime.fromtimestamp(quarters[0], tz).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(quarters[-1], tz).date()
    by_window: dict[float, Reason] = {}
    for start, end in windows(load, first, last, tz):
        inside = _quarters(start, end)
        known = {q: p for q in inside if (p := price_of(q)) is not None}
        assert load.cheapest is not None
        if len(known) < len(inside) and now < start:
            for q in inside:
                by_window[q] = "waiting"  # re-planned when the rest of the prices arrive
            continue
        chosen = choose(known, load.cheapest.quarters, load.min_run_quarters)
        for q in inside:
            if q not in known:
                by_window[q] = "fallback"
            else:
                by_window[q] = "cheapest" if q in chosen else "not_chosen"
    return [_decide(load, q, price_of(q), by_window.get(q), now) for q in quarters]


def _decide(
    load: LoadConfig, start: float, price: float | None, window: Reason | None, now: float
) -> Decision:
    if price is None:
        if window == "waiting" or start > now:
            return Decision(start, False, "waiting", None)
        return Decision(start, load.fallback == "on", "fallback", None)
    if load.off_above is not None and price > load.off_above:
        return Decision(start, False, "above", price)
    if window == "cheapest":
        return Decision(start, True, "cheapest", price)
    if load.on_below is not None and price < load.on_below:
        return Decision(start, True, "below", price)
    return Decision(start, False, window or "outside", price)


def _quarters(start: float, end: float) -> list[float]:
    first = start - start % QUARTER
    count = int((end - first + QUARTER - 1) // QUARTER)
    return [first + i * QUARTER for i in range(max(0, count))]


def decision_now(load: LoadConfig, price_of: PriceOf, now: float, tz: ZoneInfo) -> Decision:
    """The decision for the quarter containing ``now``."""
    current = now - now % QUARTER
    return plan(load, price_of, [current], now, tz)[0]
