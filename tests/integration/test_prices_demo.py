"""What `gridwatch demo` shows for prices and cost: its price part points the built-in config at
a loopback price server (never the internet), and cost accrues from the simulated meter."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import advancing_from
from gridwatch.demo import builtin_config
from gridwatch.sim.homewizard import demo as homewizard_demo
from gridwatch.sim.prices import demo as prices_demo
from tests.helpers import Samples, value
from tests.integration.conftest import Running

pytestmark = [pytest.mark.integration, pytest.mark.clock]
STHLM = ZoneInfo("Europe/Stockholm")


def priced(s: Samples, direction: str) -> float:
    """Energy priced so far in one direction (J)."""
    key = {"meter": "home", "direction": direction}
    return value(s, "gridwatch_energy_priced_joules_total", **key) or 0.0


def flowing(s: Samples) -> bool:
    # At any hour the simulated house either draws from the grid or, on a sunny midday, feeds
    # it: one of the two directions is priced, which one depends on the test's instant.
    return priced(s, "import") > 0 or priced(s, "export") > 0


async def test_demo_shows_prices_and_cost_from_loopback_simulators(
    tmp_path: Path, instant: float
) -> None:
    # The evening of the run's day: the simulated house draws about 2 kW then, so its meter
    # register moves within seconds (around a sunny noon it can sit near 0 W for minutes).
    evening = dt.datetime.combine(
        dt.datetime.fromtimestamp(instant, STHLM).date(), dt.time(18, 30), STHLM
    )
    clock = advancing_from(evening.timestamp())
    base = builtin_config()
    assert base.prices is not None and base.tariff is not None and base.meters
    async with contextlib.AsyncExitStack() as stack:
        config, _ = await homewizard_demo.demo_part(base, stack, clock)
        config, lines = await prices_demo.demo_part(config, stack, clock)
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
        exporter = Exporter(only, clock=clock)
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        gw = Running(exporter)
        s = await gw.wait_for("demo cost", flowing, timeout=40)
        direction = "import" if priced(s, "import") > 0 else "export"
        key = {"meter": "home", "direction": direction, "currency": "SEK"}
        area = {"area": "SE3", "currency": "SEK"}
        spot = value(s, "gridwatch_price_spot_per_kwh", **area)
        total = value(s, "gridwatch_price_total_per_kwh", **area)
        assert spot is not None and total is not None and total > spot
        assert value(s, "gridwatch_price_day_slots", area="SE3", day="today") in (92, 96, 100)
        assert value(s, "gridwatch_source_up", source="prices", device="SE3") == 1
        assert (value(s, "gridwatch_energy_cost_total", **key) or 0) != 0
        assert value(s, "gridwatch_energy_spot_cost_total", **key) is not None
        assert value(s, "gridwatch_capacity_fee", meter="home", currency="SEK") is not None
        status, body, _ = await gw.get("/api/v1/prices")
        assert status == 200
        answer = json.loads(body)
        assert answer["area"] == "SE3" and len(answer["slots"]) == value(
            s, "gridwatch_price_day_slots", area="SE3", day="today"
        )
