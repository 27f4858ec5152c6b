"""Metric families for spot prices: now, per slot for today and tomorrow, day statistics and the
cheapest windows ahead. Built from the price book in memory (days already fetched and cached) —
a published day's prices are valid whatever the source's health says now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gridwatch.core.families.common import non_empty
from gridwatch.core.state import StateStore
from gridwatch.sources.prices.analysis import cheapest_window, slot_labels
from gridwatch.sources.prices.book import PriceBook, SlotPrice
from gridwatch.sources.prices.slots import QUARTER
from gridwatch.sources.prices.source import PriceSource

SRC = "from the day-ahead market (elprisetjustnu.se or Nord Pool), cached by gridwatch"
TOTAL = "spot plus every per-kWh fee and tax of the configured tariff, incl. VAT"
WINDOW_HOURS = (1, 2, 3)


class PriceFamilies:
    def __init__(self, book: PriceBook, source: PriceSource) -> None:
        self._book = book
        self._source = source

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        book = self._book
        area, cur = book.area, book.currency
        f = _Families()
        today = dt.datetime.fromtimestamp(now, book.tz).date()
        current = book.slot(now - now % QUARTER, load=False)
        if current is not None:
            f.spot.add_metric([area, cur], current.spot)
            if current.total is not None:
                f.total.add_metric([area, cur], current.total)
            if current.export is not None:
                f.export.add_metric([area, cur], current.export)
        for name, day in (("today", today), ("tomorrow", today + dt.timedelta(days=1))):
            slots = book.slots(day, load=False)
            if not slots:
                continue
            f.day_slots.add_metric([area, name], len(slots))
            labels = slot_labels([s.start for s in slots], book.tz)
            for slot, label in zip(slots, labels, strict=True):
                f.slot_spot.add_metric([area, cur, name, label], slot.spot)
                f.slot_start.add_metric([area, name, label], slot.start)
                if slot.total is not None:
                    f.slot_total.add_metric([area, cur, name, label], slot.total)
            _stats(f.day_spot, [area, cur, name], [s.spot for s in slots])
            totals = [s.total for s in slots if s.total is not None]
            if totals:
                _stats(f.day_total, [area, cur, name], totals)
        tomorrow_known = book.day(today + dt.timedelta(days=1), load=False) is not None
        f.published.add_metric([area], 1.0 if tomorrow_known else 0.0)
        ahead = _ahead(book, today, now)
        for hours in WINDOW_HOURS:
            window = cheapest_window(ahead, hours * 4, use_total=book.tariff is not None)
            if window is not None:
                f.window_start.add_metric([area, str(hours)], window.start)
                f.window_mean.add_metric([area, cur, str(hours)], window.mean)
        for (provider, result), count in sorted(self._source.fetches.items()):
            f.fetches.add_metric([area, provider, result], count)
        if book.tariff is not None:
            f.fees.add_metric([cur], book.tariff.monthly_fees())
        return non_empty(f.all())


def _ahead(book: PriceBook, today: dt.date, now: float) -> list[SlotPrice]:
    """Known slots from the current quarter up to 24 h ahead."""
    first, last = now - now % QUARTER, now + 86400
    slots = book.slots(today, load=False) + book.slots(today + dt.timedelta(days=1), load=False)
    return [s for s in slots if first <= s.start < last]


def _stats(family: GaugeMetricFamily, labels: list[str], values: list[float]) -> None:
    family.add_metric([*labels, "min"], min(values))
    family.add_metric([*labels, "max"], max(values))
    family.add_metric([*labels, "mean"], sum(values) / len(values))


class _Families:
    def __init__(self) -> None:
        ac = ["area", "currency"]
        slot = [*ac, "day", "slot"]
        self.spot = GaugeMetricFamily(
            "gridwatch_price_spot_per_kwh",
            "Spot price of the current quarter (hour mean on an hourly contract), excl. VAT, "
            f"{SRC}.",
            labels=ac,
        )
        self.total = GaugeMetricFamily(
            "gridwatch_price_total_per_kwh",
            f"What an imported kWh costs now: {TOTAL}.",
            labels=ac,
        )
        self.export = GaugeMetricFamily(
            "gridwatch_price_export_per_kwh",
            "What an exported kWh earns now under the configured tariff.",
            labels=ac,
        )
        self.slot_spot = GaugeMetricFamily(
            "gridwatch_price_slot_spot_per_kwh",
            f"Spot price per quarter of today and tomorrow by local start time, {SRC}.",
            labels=slot,
        )
        self.slot_total = GaugeMetricFamily(
            "gridwatch_price_slot_total_per_kwh",
            f"Total import price per quarter of today and tomorrow: {TOTAL}.",
            labels=slot,
        )
        self.slot_start = GaugeMetricFamily(
            "gridwatch_price_slot_start_timestamp_seconds",
            "Unix start of each price slot of today and tomorrow (orders the DST-day labels).",
            labels=["area", "day", "slot"],
        )
        self.day_spot = GaugeMetricFamily(
            "gridwatch_price_day_spot_per_kwh",
            f"Minimum, maximum and mean spot price of today and tomorrow, {SRC}.",
            labels=[*ac, "day", "stat"],
        )
        self.day_total = GaugeMetricFamily(
            "gridwatch_price_day_total_per_kwh",
            f"Minimum, maximum and mean total import price of today and tomorrow: {TOTAL}.",
            labels=[*ac, "day", "stat"],
        )
        self.day_slots = GaugeMetricFamily(
            "gridwatch_price_day_slots",
            "Number of quarter-hour price slots known for the local day (92, 96 or 100).",
            labels=["area", "day"],
        )
        self.published = GaugeMetricFamily(
            "gridwatch_price_tomorrow_published",
            "1 when tomorrow's day-ahead prices are known, 0 while not published yet.",
            labels=["area"],
        )
        self.window_start = GaugeMetricFamily(
            "gridwatch_price_cheapest_window_start_timestamp_seconds",
            "Start of the cheapest 1, 2 or 3 h window in the next 24 h of known prices "
            "(total price with a tariff, else spot).",
            labels=["area", "hours"],
        )
        self.window_mean = GaugeMetricFamily(
            "gridwatch_price_cheapest_window_mean_per_kwh",
            "Mean price of the cheapest 1, 2 or 3 h window in the next 24 h of known prices.",
            labels=[*ac, "hours"],
        )
        self.fetches = CounterMetricFamily(
            "gridwatch_price_fetches",
            "Price requests per provider and result (ok, not_published, error) since start.",
            labels=["area", "provider", "result"],
        )
        self.fees = GaugeMetricFamily(
            "gridwatch_tariff_monthly_fees",
            "Fixed supplier and grid fees per month from the tariff config, incl. VAT.",
            labels=["currency"],
        )

    def all(self) -> list[Metric]:
        return list(vars(self).values())
