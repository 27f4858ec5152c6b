"""Demo part for prices: a loopback price server stands in for elprisetjustnu.se and Nord Pool,
so the demo shows prices and cost without touching the internet."""

from __future__ import annotations

import contextlib

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sources.homewizard import METERS
from gridwatch.sources.prices import PRICES


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    user_prices = PRICES.of(config)
    if user_prices is None:
        return config, []
    sim = PriceSimulator(clock=clock)
    await sim.start()
    stack.push_async_callback(sim.close)
    prices = user_prices.model_copy(
        update={"elprisetjustnu_url": sim.elprisetjustnu_url, "nordpool_url": sim.nordpool_url}
    )
    area = prices.area
    lines = [
        f"  prices {area} (simulated): {sim.elprisetjustnu_url}/YYYY/MM-DD_{area}.json · "
        f"{sim.nordpool_url}/DayAheadPriceIndices",
        "  prices JSON  /api/v1/prices?date=YYYY-MM-DD on the exporter"
        + (" · cost accrues from the simulated meter" if METERS.of(config) else ""),
    ]
    return config.model_copy(update={PRICES.key: prices}), lines
