"""The real exporter with the HomeWizard simulator and the price server on loopback: prices,
cost counters, the JSON API, and cost that continues after a restart with the same data_dir.

The exporter and the price server share the test's clock (tests/clock.py), so "today" is the
same day for both and for the assertions, whatever the machine's date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import Clock
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator
from gridwatch.sim.prices.simulator import PriceSimulator
from tests.helpers import PROJECT_FIXTURES, Samples, value
from tests.integration.conftest import Running, SimFactory, v1_meter

pytestmark = [pytest.mark.integration, pytest.mark.clock]
COST = "gridwatch_energy_cost_total"
SPOT_COST = "gridwatch_energy_spot_cost_total"
IMPORT = {"meter": "home", "direction": "import", "currency": "SEK"}
STHLM = ZoneInfo("Europe/Stockholm")


def config(meter: dict[str, Any], prices: PriceSimulator, data_dir: Path) -> Any:
    return parse_config(
        {
            "site": {"timezone": "Europe/Stockholm", "data_dir": str(data_dir)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "meters": [meter],
            "prices": {
                "area": "SE3",
                "elprisetjustnu_url": prices.elprisetjustnu_url,
                "nordpool_url": prices.nordpool_url,
            },
            "tariff": {
                "supplier": {"markup_per_kwh": 0.04, "monthly_fee": 39},
                "grid": {"transfer_fee_per_kwh": 0.25, "monthly_fee": 320},
                "energy_tax_per_kwh": 0.36,
                "capacity_fee": {"price_per_kw": 65, "night_weight": 0.5},
            },
        }
    )


def cost(samples: Samples) -> float:
    return value(samples, COST, **IMPORT) or 0.0


def meter_fixture(folder: Path, import_kwh: float) -> Path:
    """The Swedish v1 capture with its import register set to ``import_kwh``."""
    data = json.loads(
        (PROJECT_FIXTURES / "homewizard" / "v1_sweden_single_tariff.json").read_text()
    )
    data["total_power_import_kwh"] = data["total_power_import_t1_kwh"] = import_kwh
    path = folder / f"meter_{import_kwh}.json"
    path.write_text(json.dumps(data))
    return path


async def swap_meter(
    make_sim: SimFactory, old: HomeWizardSimulator, folder: Path, import_kwh: float
) -> HomeWizardSimulator:
    """The same meter (same port) a moment later, its register advanced."""
    await old.close()
    return await make_sim(fixture=meter_fixture(folder, import_kwh), http_port=old.http_port)


async def step_price_range(gw: Running, t0: float, t1: float) -> tuple[float, float]:
    """Lowest and highest total price of the quarters touched between ``t0`` and ``t1``,
    read from the exporter's own JSON API (a step usually falls in one quarter: lo == hi)."""
    prices: list[float] = []
    first, last = t0 - t0 % 900, t1
    for day in {dt.datetime.fromtimestamp(t, STHLM).date() for t in (t0, t1)}:
        status, body, _ = await gw.get(f"/api/v1/prices?date={day}")
        assert status == 200
        for slot in json.loads(body)["slots"]:
            start = dt.datetime.fromisoformat(slot["start_utc"]).timestamp()
            if first <= start <= last:
                prices.append(slot["total"])
    assert prices
    return min(prices), max(prices)


async def test_prices_and_cost_through_the_exporter_and_a_restart(
    make_sim: SimFactory, tmp_path: Path, clock: Clock
) -> None:
    meter = await make_sim(fixture=meter_fixture(tmp_path, 5000.1))
    async with PriceSimulator(clock=clock) as prices:
        settings = config(v1_meter(meter, interval="0.2s"), prices, tmp_path)
        exporter = Exporter(settings, clock=clock)
        await exporter.start()
        try:
            gw = Running(exporter)
            await gw.wait_for("cost baseline", lambda s: value(s, COST, **IMPORT) == 0)
            t0 = clock()
            meter = await swap_meter(make_sim, meter, tmp_path, 5000.6)  # 0.5 kWh later
            s = await gw.wait_for("import cost", lambda s: cost(s) > 0)
            lo, hi = await step_price_range(gw, t0, clock())
            assert 0.5 * lo - 1e-9 <= cost(s) <= 0.5 * hi + 1e-9
            today = dt.datetime.fromtimestamp(clock(), STHLM).date()
            slots = value(s, "gridwatch_price_day_slots", area="SE3", day="today")
            assert slots in (92, 96, 100)
            spot = value(s, "gridwatch_price_spot_per_kwh", area="SE3", currency="SEK")
            total = value(s, "gridwatch_price_total_per_kwh", area="SE3", currency="SEK")
            assert spot is not None and total is not None
            assert total == pytest.approx((spot + 0.04 + 0.25 + 0.36) * 1.25)
            per_slot = [k for k in s if k[0] == "gridwatch_price_slot_spot_per_kwh"]
            assert len([k for k in per_slot if ("day", "today") in k[1]]) == slots
            assert value(s, "gridwatch_source_up", source="prices", device="SE3") == 1
            assert value(s, SPOT_COST, **IMPORT) is not None
            assert value(s, "gridwatch_capacity_fee", meter="home", currency="SEK") is not None
            assert value(s, "gridwatch_tariff_monthly_fees", currency="SEK") == pytest.approx(
                (39 + 320) * 1.25
            )

            status, body, _ = await gw.get(f"/api/v1/prices?date={today}")
            assert status == 200
            answer = json.loads(body)
            assert answer["date"] == today.isoformat() and answer["currency"] == "SEK"
            assert len(answer["slots"]) == slots
            first = answer["slots"][0]
            assert set(first) >= {"start_utc", "start_local", "spot", "total"}
            assert first["start_local"] == f"{today}T00:00:00{first['start_local'][19:]}"
            assert first["total"] == pytest.approx((first["spot"] + 0.04 + 0.25 + 0.36) * 1.25)
            assert (await gw.get("/api/v1/prices?date=2026-13-01"))[0] == 400
            assert (await gw.get("/api/v1/prices?date=2020-01-01"))[0] == 404
            before = cost(await gw.scrape())
        finally:
            await exporter.stop()
        today_requests = [entry for entry in prices.log if entry[1] == today.isoformat()]
        assert len(today_requests) == 1

        restarted = Exporter(settings, clock=clock)
        await restarted.start()
        try:
            gw = Running(restarted)
            s = await gw.wait_for("restored cost", lambda s: cost(s) == before > 0)
            t0 = clock()
            await swap_meter(make_sim, meter, tmp_path, 5001.1)  # another 0.5 kWh
            s = await gw.wait_for("cost continues", lambda s: cost(s) > before)
            # The second half kWh is priced at its own quarter, and nothing twice.
            lo, hi = await step_price_range(gw, t0, clock())
            assert 0.5 * lo - 1e-9 <= cost(s) - before <= 0.5 * hi + 1e-9
            priced = value(
                s, "gridwatch_energy_priced_joules_total", meter="home", direction="import"
            )
            assert priced == pytest.approx(1.0 * 3.6e6)
            assert value(s, "gridwatch_energy_counter_resets_total", meter="home") == 0
        finally:
            await restarted.stop()
        # The restart read today's prices from the state file: no second request.
        assert [entry for entry in prices.log if entry[1] == today.isoformat()] == today_requests
