"""Energy and cost per HomeWizard kWh meter (a sub-meter) at the real quarter-hour prices, apart
from the grid meter's (so sums over grid meters never count it twice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import Clock
from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.prices.simulator import PriceSimulator
from tests.helpers import Samples, value
from tests.integration.conftest import Running
from tests.integration.test_prices_exporter import step_price_range

pytestmark = [pytest.mark.integration, pytest.mark.clock]
EV = {"device": "ev", "direction": "import"}


def cost(s: Samples) -> float:
    return value(s, "gridwatch_submeter_energy_cost_total", **EV, currency="SEK") or 0.0


async def test_kwh_meter_energy_and_cost(tmp_path: Path, clock: Clock) -> None:
    reading = {"energy_import_kwh": 812.0, "energy_export_kwh": 0.0, "power_w": 7200.0}
    options = DeviceOptions(product_type="HWE-KWH1", fixture=dict(reading), fixture_api="v2")
    async with DeviceSimulator(options, clock=clock) as ev, PriceSimulator(clock=clock) as prices:
        config = parse_config(
            {
                "site": {"timezone": "Europe/Stockholm", "data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "homewizard_devices": [
                    {
                        "name": "ev",
                        "host": ev.host,
                        "api": "v1",
                        "http_port": ev.http_port,
                        "interval": "0.2s",
                        "label": "EV charger",
                    }
                ],
                "prices": {
                    "area": "SE3",
                    "elprisetjustnu_url": prices.elprisetjustnu_url,
                    "nordpool_url": prices.nordpool_url,
                },
                "tariff": {"energy_tax_per_kwh": 0.36},
            }
        )
        exporter = Exporter(config, clock=clock)
        await exporter.start()
        try:
            gw = Running(exporter)
            await gw.wait_for(
                "baseline", lambda s: value(s, "gridwatch_hw_device_power_watts", device="ev")
            )
            t0 = clock()
            assert ev.options.fixture is not None
            ev.options.fixture["energy_import_kwh"] = 812.5  # the car took 0.5 kWh
            s = await gw.wait_for("sub-meter cost", lambda s: cost(s) > 0)
            lo, hi = await step_price_range(gw, t0, clock())
            assert 0.5 * lo - 1e-9 <= cost(s) <= 0.5 * hi + 1e-9
            day = value(s, "gridwatch_submeter_energy_period_joules", **EV, period="day")
            assert day == pytest.approx(0.5 * 3.6e6)
            # the grid meters' cost families carry no sub-meter
            assert not [n for n, labels in s if n.startswith("gridwatch_energy_") and
                        ("meter", "ev") in labels]  # fmt: skip
        finally:
            await exporter.stop()
