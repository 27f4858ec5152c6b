"""Day-ahead spot prices: elprisetjustnu, Nord Pool; slots and the SQLite cache.

The area also owns the ``tariff:`` section: cost accounting needs the prices to run.
"""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.energy.config import TariffConfig
from gridwatch.sources.prices.config import PricesConfig

PRICES = Section[PricesConfig | None]("prices", PricesConfig | None, lambda: None)
TARIFF = Section[TariffConfig | None]("tariff", TariffConfig | None, lambda: None)

AREA = Area(
    name="prices",
    component="gridwatch.sources.prices.component",
    # A tariff without prices only gets its warning from the prices component.
    wanted=lambda config: bool(PRICES.of(config) or TARIFF.of(config)),
    sections=(PRICES, TARIFF),
    demo_part="gridwatch.sim.prices.demo",
)
