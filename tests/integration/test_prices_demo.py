"""What `gridwatch demo` shows for prices and cost: its price part points the built-in config at
a loopback price server (never the internet), and cost accrues from the simulated meter."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.demo import builtin_config
from gridwatch.sim.homewizard import demo as homewizard_demo
from gridwatch.sim.prices import demo as prices_demo
from tests.helpers import Samples, value
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration
IMPORT = {"meter": "home", "direction": "import", "currency": "SEK"}


def import_cost(s: Samples) -> float:
    return value(s, "gridwatch_energy_cost_total", **IMPORT) or 0.0


async def test_demo_shows_prices_and_cost_from_loopback_simulators(tmp_path: Path) -> None:
    base = builtin_config()
    assert base.prices is not None and base.tariff is not None and base.meters
    async with contextlib.AsyncExitStack() as stack:
        config, _ = await homewizard_demo.demo_part(base, stack)
        config, lines = await prices_demo.demo_part(config, stack)
        assert config.prices is not None
        for url in (config.prices.elprisetjustnu_base, config.prices.nordpool_url):
            assert urlsplit(url).hostname == "127.0.0.1"
        assert "simulated" in lines[0] and "/api/v1/prices" in lines[1]
        # Only meters, prices and tariff: the other areas' demo parts are tested on their own.
        only = parse_config(
            {
                "site": {"timezone": "Europe/Stockholm", "data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
            }
        ).model_copy(
            update={"meters": config.meters, "prices": config.prices, "tariff": config.tariff}
        )
        exporter = Exporter(only)
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        gw = Running(exporter)
        s = await gw.wait_for("demo cost", lambda s: import_cost(s) > 0, timeout=40)
        area = {"area": "SE3", "currency": "SEK"}
        spot = value(s, "gridwatch_price_spot_per_kwh", **area)
        total = value(s, "gridwatch_price_total_per_kwh", **area)
        assert spot is not None and total is not None and total > spot
        assert value(s, "gridwatch_price_day_slots", area="SE3", day="today") in (92, 96, 100)
        assert value(s, "gridwatch_source_up", source="prices", device="SE3") == 1
        assert (value(s, "gridwatch_energy_spot_cost_total", **IMPORT) or 0) > 0
        assert value(s, "gridwatch_capacity_fee", meter="home", currency="SEK") is not None
        status, body, _ = await gw.get("/api/v1/prices")
        assert status == 200
        answer = json.loads(body)
        assert answer["area"] == "SE3" and len(answer["slots"]) == value(
            s, "gridwatch_price_day_slots", area="SE3", day="today"
        )
