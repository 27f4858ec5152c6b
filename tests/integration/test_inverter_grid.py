"""Grid state across sources (inverter + P1 meter) and the demo's simulated inverter."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.demo import builtin_config
from gridwatch.sim.inverter import demo as inverter_demo
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sources.inverter.regmap import load_shipped
from tests.helpers import value
from tests.integration.conftest import FULL_V1, Running, SimFactory, only_inverters

pytestmark = [pytest.mark.integration, pytest.mark.clock]


async def test_p1_meter_as_second_grid_signal(make_sim: SimFactory, tmp_path: Path) -> None:
    meter = await make_sim(fixture=FULL_V1)
    dongle = EybondDongleSimulator(InverterDevice(load_shipped("smg_ii")))
    await dongle.start()
    config = parse_config(
        {
            "site": {"data_dir": str(tmp_path)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "meters": [
                {
                    "name": "home",
                    "host": meter.host,
                    "api": "v1",
                    "http_port": meter.http_port,
                    "interval": "0.2s",
                }
            ],
            "inverters": [
                {
                    "name": "smg",
                    "transport": "eybond",
                    "host": "127.0.0.1",
                    "dongle_port": dongle.udp_port,
                    "listen_host": "127.0.0.1",
                    "listen_port": 0,
                    "interval": "0.2s",
                    "timeout": "0.5s",
                }
            ],
            "grid": {"consecutive_polls": 2, "p1_meters": ["home"]},
        }
    )
    exporter = Exporter(config)
    await exporter.start()
    gw = Running(exporter)
    try:
        both = {"source": "homewizard", "device": "home"}
        await gw.wait_for(
            "both signals up",
            lambda s: (
                value(s, "gridwatch_grid_signal_up", **both) == 1
                and value(s, "gridwatch_grid_signal_up", source="inverter", device="smg") == 1
            ),
        )
        # The inverter's input breaker trips, the meter still sees the grid: still up.
        dongle.device.grid_override = False
        s = await gw.wait_for(
            "inverter sees no mains",
            lambda s: value(s, "gridwatch_grid_signal_up", source="inverter", device="smg") == 0,
        )
        assert value(s, "gridwatch_grid_up") == 1
        # The meter goes dark (as it does in a real outage): unknown, so the inverter decides.
        await meter.stop()
        s = await gw.wait_for("grid down", lambda s: value(s, "gridwatch_grid_up") == 0)
        assert value(s, "gridwatch_grid_signal_up", **both) is None
        assert value(s, "gridwatch_grid_last_change_timestamp_seconds") is not None
    finally:
        await exporter.stop()
        await dongle.stop()


async def test_demo_runs_the_inverter_behind_the_dongle_simulator(tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await inverter_demo.demo_part(builtin_config(), stack)
        assert config.inverters and config.inverters[0].transport == "eybond"
        assert any("Eybond dongle" in line for line in lines)
        exporter = Exporter(only_inverters(config, tmp_path))
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        gw = Running(exporter)
        s = await gw.wait_for(
            "demo inverter values",
            lambda s: value(s, "gridwatch_inverter_battery_soc_ratio", inverter="smg") is not None,
        )
        assert value(s, "gridwatch_source_up", source="inverter", device="smg") == 1
