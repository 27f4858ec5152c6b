"""Wires load automation (gridwatch.energy.automation) into the prices component: the price
book's prices, the capacity-fee peaks and the peak-shaving meter's readings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gridwatch.core.component import Component, Runtime
from gridwatch.core.source import SourceKey
from gridwatch.energy.automation import Automation
from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.energy.peak_shaving import PeakShaver
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.sources.homewizard.source import KIND as METER_KIND
from gridwatch.sources.prices.book import PriceBook


def automation_part(
    result: Component,
    runtime: Runtime,
    config: AutomationConfig,
    book: PriceBook,
    peaks: CapacityPeaks | None,
) -> Automation:
    use_total = book.tariff is not None

    def price_of(start: float) -> float | None:
        # Memory only: this runs at scrape time too, and preload/add keep the days there.
        slot = book.cached_slot(start)
        if slot is None:
            return None
        return slot.total if use_total and slot.total is not None else slot.spot

    def slots_of_day(day: dt.date) -> list[float]:
        return [s.start for s in book.slots(day, load=False)]

    shaver = None
    if config.peak_shaving is not None and peaks is not None:
        shaver = PeakShaver(config.peak_shaving, config.loads, peaks, runtime.tz, runtime.db)
    automation = Automation(config, price_of, slots_of_day, runtime.tz, shaver)
    if shaver is not None:
        meter = shaver.rule.meter

        def on_reading(key: SourceKey, reading: Any) -> None:
            if key.device == meter:
                automation.on_power(runtime.store.now(), getattr(reading, "power_w", None))

        runtime.store.observe(METER_KIND, on_reading)
    result.builders.append(automation)
    result.routes.extend(automation.routes(runtime.store.now))
    return automation
