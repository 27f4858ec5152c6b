"""Will the battery last the next outage: the inverter simulator over Modbus TCP and the
simulated be-svitlo operator, both on loopback, feeding one exporter.

The inverter reports its state of charge and AC output; the outage schedule says when the grid
goes and for how long. The user reads runtime, energy needed and the margin from /metrics.
Every part (the exporter's sources, the outage simulator) reads the test's clock, so each test
picks its instant, and staleness is tested by moving that clock.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sources.inverter.regmap import load_shipped
from gridwatch.sources.outages.schedule import KYIV
from tests.helpers import Samples, value
from tests.integration.conftest import Running
from tests.integration.outages_harness import HOUR, TODAY, Harness, P, Q, harness, polls, serve

pytestmark = [pytest.mark.integration, pytest.mark.clock]
CAPACITY_WH = 5120.0
ENERGY = "gridwatch_outage_battery_energy_joules"
LOAD = "gridwatch_outage_battery_load_watts"
RUNTIME = "gridwatch_outage_battery_runtime_seconds"
NEEDED = "gridwatch_outage_energy_needed_joules"
MARGIN = "gridwatch_outage_battery_margin_joules"


@pytest.fixture
async def h(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(monkeypatch, tmp_path) as running:
        yield running


@pytest.fixture
async def inverter(h: Harness) -> AsyncIterator[ModbusInverterServer]:
    device = InverterDevice(load_shipped("smg_ii"), clock=h.clock)
    device.overrides = {"battery_soc": 50, "output_power": 500, "battery_power": -500}
    server = ModbusInverterServer(device)
    await server.start()
    yield server
    await server.stop()


async def start(h: Harness, inverter: ModbusInverterServer, **outages: object) -> Running:
    smg = {
        "name": "smg",
        "transport": "tcp",
        "host": "127.0.0.1",
        "port": inverter.port,
        "interval": "0.1s",
        "timeout": "0.5s",
        "retries": 0,
        "battery_capacity_wh": CAPACITY_WH,
    }
    gw = await h.start({"inverters": [smg]}, **outages)
    await polls(gw)
    return gw


def inverter_load(s: Samples) -> float | None:
    return value(s, "gridwatch_inverter_output_power_watts", inverter="smg")


async def test_runtime_and_margin_follow_the_inverter_and_the_schedule(
    h: Harness, inverter: ModbusInverterServer
) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")  # next outage 18:00–21:30
    h.clock.set("2026-11-20T16:00")
    gw = await start(h, inverter)
    s = await gw.wait_for("the inverter's battery", lambda s: value(s, ENERGY, **Q) is not None)
    energy = 0.5 * CAPACITY_WH * 3600  # SOC 50 % of the configured capacity
    assert value(s, ENERGY, **Q) == energy
    assert value(s, LOAD, **Q) == inverter_load(s) == 500
    assert value(s, RUNTIME, **Q) == energy / 500
    assert value(s, NEEDED, **Q) == 3.5 * HOUR * 500
    assert (value(s, MARGIN, **Q) or 0) > 0  # 2.56 kWh lasts 5.1 h at 500 W: enough

    # The evening load doubles: 2.56 kWh no longer covers 3.5 h.
    inverter.device.overrides["output_power"] = 1000
    s = await gw.wait_for("the higher load", lambda s: value(s, LOAD, **Q) == 1000)
    assert value(s, RUNTIME, **Q) == energy / 1000
    assert value(s, NEEDED, **Q) == 3.5 * HOUR * 1000
    assert value(s, MARGIN, **Q) == energy - 3.5 * HOUR * 1000
    assert (value(s, MARGIN, **Q) or 0) < 0

    # An hour into the outage only the rest of it has to be covered.
    h.clock.set("2026-11-20T19:00")
    s = await gw.wait_for("the outage", lambda s: value(s, NEEDED, **Q) == 2.5 * HOUR * 1000)
    assert value(s, "gridwatch_outage_schedule_outage_active", **Q) == 1


async def test_typical_load_overrides_the_present_load_for_the_need(
    h: Harness, inverter: ModbusInverterServer
) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T16:00")
    gw = await start(h, inverter, typical_load_watts=800, battery_reserve_ratio=0.2)
    s = await gw.wait_for("the inverter's battery", lambda s: value(s, ENERGY, **Q) is not None)
    energy = (0.5 - 0.2) * CAPACITY_WH * 3600  # 20 % of the capacity held back
    assert value(s, ENERGY, **Q) == pytest.approx(energy)
    assert value(s, RUNTIME, **Q) == pytest.approx(energy / 500)  # runtime: the present load
    assert value(s, NEEDED, **Q) == 3.5 * HOUR * 800  # need: the typical load


async def test_no_verdict_without_a_known_outage(
    h: Harness, inverter: ModbusInverterServer
) -> None:
    serve(h, "offseason_empty.json")  # no day published: the next outage is unknown
    gw = await start(h, inverter)
    s = await gw.wait_for("the inverter's battery", lambda s: value(s, ENERGY, **Q) is not None)
    assert value(s, RUNTIME, **Q) is not None
    assert value(s, NEEDED, **Q) is None  # never a 0 J "need" that would read as "lasts"
    assert value(s, MARGIN, **Q) is None


async def test_a_silent_inverter_takes_the_estimate_away_not_the_plan(
    h: Harness, inverter: ModbusInverterServer
) -> None:
    h.clock.set("2026-11-20T08:00")
    today = datetime.fromtimestamp(h.clock.now, KYIV).date()
    tomorrow, after = today + timedelta(days=1), today + timedelta(days=2)
    h.operator.set_days("5.2", {today: [], tomorrow: [("10:00", "12:00")], after: []})
    gw = await start(h, inverter)
    s = await gw.wait_for("the margin", lambda s: value(s, MARGIN, **Q) is not None)
    assert value(s, NEEDED, **Q) == 2 * HOUR * 500
    start_at = value(s, "gridwatch_outage_schedule_next_outage_start_timestamp_seconds", **Q)
    assert start_at is not None

    await inverter.stop()
    h.clock.now += 300  # far past the inverter's staleness window (3 polls)
    s = await gw.wait_for("the stale battery", lambda s: value(s, ENERGY, **Q) is None)
    for name in (LOAD, RUNTIME, NEEDED, MARGIN):
        assert value(s, name, **Q) is None, name
    # The schedule is a plan published in advance: it stays.
    s = await polls(gw)
    assert (
        value(s, "gridwatch_outage_schedule_next_outage_start_timestamp_seconds", **Q) == start_at
    )


DOCS = Path(__file__).resolve().parents[2] / "docs"
RULES = Path(__file__).resolve().parents[2] / "prometheus" / "rules" / "outages.yml"


def _documented(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, text))


async def test_the_documented_metric_names_are_the_exported_ones(
    h: Harness, inverter: ModbusInverterServer
) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T16:00")
    gw = await start(h, inverter)
    h.operator.set_days("5.2", {date(2026, 11, 20): [("18:00", "20:00")], date(2026, 11, 21): []})
    # Every series at once: a change seen, a battery, an approval stamp, an outage ahead.
    s = await gw.wait_for(
        "a change and the battery",
        lambda s: value(s, P + "changes_total", **Q) == 1 and value(s, MARGIN, **Q) is not None,
    )
    assert value(s, P + "approved_timestamp_seconds", **TODAY) is not None
    exported = {name for name, _ in s if name.startswith("gridwatch_outage_")}

    metrics_md = (DOCS / "metrics.md").read_text(encoding="utf-8")
    section = metrics_md.split("\n## Outages", 1)[1].split("\n## ", 1)[0]
    assert _documented(section, r"`(gridwatch_outage_\w+)`") == exported
    outages_md = (DOCS / "outages.md").read_text(encoding="utf-8")
    assert _documented(outages_md, r"\b(gridwatch_outage_\w+)") <= exported

    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"][0]["rules"]
    recorded = {rule["record"] for rule in rules}
    for text in (section, outages_md):
        assert _documented(text, r"(gridwatch:outage_\w+)") == recorded
