"""Prices and cost: the price source, its families and JSON API, and — when meters are
configured — cost accounting and capacity-fee peaks fed by every P1 reading."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from gridwatch.core.component import Component, Runtime
from gridwatch.core.source import SourceKey
from gridwatch.energy.cost import CostAccounting
from gridwatch.energy.cost_metrics import CostFamilies
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.energy.tariff import Tariff
from gridwatch.sources.homewizard import METERS
from gridwatch.sources.homewizard.source import KIND as METER_KIND
from gridwatch.sources.prices import PRICES, TARIFF
from gridwatch.sources.prices.api import routes
from gridwatch.sources.prices.book import PriceBook
from gridwatch.sources.prices.metrics import PriceFamilies
from gridwatch.sources.prices.source import PriceSource

log = logging.getLogger(__name__)


def component(runtime: Runtime) -> Component:
    prices, tariff_config = PRICES.of(runtime.config), TARIFF.of(runtime.config)
    if prices is None:
        if tariff_config is not None:
            log.warning("a tariff is configured but no prices: cost accounting is off")
        return Component()
    tariff = Tariff(tariff_config, runtime.tz) if tariff_config is not None else None
    book = PriceBook(
        runtime.db,
        area=prices.area,
        currency=prices.price_currency,
        tz=runtime.tz,
        hourly=prices.resolution == "hour",
        tariff=tariff,
    )
    # Recent days into memory now: scrapes read memory only, and restarts need no network.
    today = dt.datetime.fromtimestamp(runtime.store.now(), runtime.tz).date()
    book.preload(today + dt.timedelta(days=offset) for offset in range(-8, 2))
    result = Component(routes=routes(book, runtime.store.now))
    accounting: CostAccounting | None = None
    if METERS.of(runtime.config):
        peaks = None
        if tariff is not None and tariff.config.capacity_fee is not None:
            peaks = CapacityPeaks(
                tariff.config.capacity_fee, runtime.tz, tariff.capacity_price_per_kw
            )
        accounting = CostAccounting(book.slot, runtime.tz, db=runtime.db, peaks=peaks)
        acc = accounting

        def on_reading(key: SourceKey, reading: Any) -> None:
            acc.on_reading(key.device, reading)

        runtime.store.observe(METER_KIND, on_reading)
        book.on_new_day(lambda _day: acc.price_pending())
        acc.price_pending()  # energy saved before a restart whose day is known by now
        result.on_stop.append(acc.persist)
    source = PriceSource(
        prices,
        book,
        runtime.tz,
        clock=runtime.store.now,
        wanted=accounting.pending_days if accounting is not None else tuple,
    )
    result.sources.append(source)
    result.builders.append(PriceFamilies(book, source))
    if accounting is not None:
        result.builders.append(
            CostFamilies(
                accounting,
                prices.price_currency,
                meter_kind=METER_KIND,
                tariff=tariff is not None,
                cached_prices=book.cached_slot,
            )
        )
    return result
