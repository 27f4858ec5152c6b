"""Derived price views: slot labels, day statistics, the cheapest window ahead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gridwatch.sources.prices.book import SlotPrice
from gridwatch.sources.prices.slots import QUARTER


def slot_labels(starts: Sequence[float], tz: ZoneInfo) -> list[str]:
    """Local wall-clock start "HH:MM" of each slot.

    On the autumn DST day 02:00–02:45 happen twice; the second pass is labelled "02:00b" …
    "02:45b", so a day has at most 100 distinct, stable label values. On the spring day
    02:00–02:45 simply do not exist.
    """
    labels: list[str] = []
    seen: set[str] = set()
    for start in starts:
        label = dt.datetime.fromtimestamp(start, tz).strftime("%H:%M")
        if label in seen:
            label += "b"
        seen.add(label)
        labels.append(label)
    return labels


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    mean: float


def cheapest_window(slots: Sequence[SlotPrice], quarters: int, *, use_total: bool) -> Window | None:
    """The contiguous run of ``quarters`` slots with the lowest mean price, if one is known."""
    best: Window | None = None
    run: list[float] = []
    run_starts: list[float] = []
    for slot in slots:
        price = slot.total if use_total and slot.total is not None else slot.spot
        if run_starts and slot.start != run_starts[-1] + QUARTER:
            run, run_starts = [], []  # a gap: windows must be contiguous
        run.append(price)
        run_starts.append(slot.start)
        if len(run) > quarters:
            run.pop(0)
            run_starts.pop(0)
        if len(run) == quarters:
            mean = sum(run) / quarters
            if best is None or mean < best.mean - 1e-12:
                best = Window(run_starts[0], mean)
    return best
