"""The gentler poll: registers the map marks ``slow`` (settings, faults, serial number) are read
every ``slow_interval``; the block that decides grid state and output on every poll. Against the
pymodbus server (SMG) and the Solarman V5 logger simulator (Deye), counting the requests the
source sends; the source's clock is a test clock."""

from __future__ import annotations

import pytest

from gridwatch.config import parse_config
from gridwatch.sim.inverter.device import InverterDevice, Scenario
from gridwatch.sim.inverter.deye import MODELS as DEYE_MODELS
from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from gridwatch.sources.inverter import INVERTERS
from gridwatch.sources.inverter.regmap import MapError, load_shipped, shipped_models
from gridwatch.sources.inverter.source import InverterSource

pytestmark = pytest.mark.integration


# What grid state, the outage runtime and the live page read: never slow, on any map.
FAST_ROLES = {
    "mains_voltage",
    "mains_frequency",
    "grid_connected",
    "output_power",
    "battery_power",
    "battery_soc",
}


@pytest.mark.parametrize("model", shipped_models())
def test_every_shipped_map_reads_grid_and_output_fast(model: str) -> None:
    regmap = load_shipped(model)
    fast = {r.metric for r in regmap.registers if not r.slow}
    slow = {r.metric for r in regmap.registers if r.slow}
    assert {"mains_voltage", "mains_frequency"} <= fast
    assert not FAST_ROLES & slow, f"{model}: {FAST_ROLES & slow} read only now and then"
    if "grid_connected" not in fast:
        # Without a grid relay register, the operating mode says mains or battery.
        assert "operating_mode" in fast
    assert regmap.slow_ranges, "a map with nothing slow polls as hard as before"
    assert len(regmap.fast_ranges) < len(regmap.ranges)


def test_a_map_of_slow_registers_only_is_refused(tmp_path: object) -> None:
    from gridwatch.sources.inverter.regmap import _parse

    with pytest.raises(MapError, match="every register is slow"):
        _parse(
            "model: x\nregisters:\n  - {name: v, address: 1, metric: mains_voltage, slow: true}\n",
            "x.yaml",
        )


async def test_slow_ranges_are_read_once_per_slow_interval() -> None:
    now = [1_000.0]
    regmap = load_shipped("smg_ii")
    device = InverterDevice(regmap, clock=lambda: now[0])
    async with ModbusInverterServer(device, framing="tcp") as server:
        config = parse_config(
            {"inverters": [{"name": "smg", "transport": "tcp", "host": "127.0.0.1",
                            "port": server.port, "interval": "2s", "slow_interval": "60s",
                            "retries": 0}]}
        )  # fmt: skip
        source = InverterSource(INVERTERS.of(config)[0], clock=lambda: now[0])
        try:
            per_poll = []
            priorities = []
            for step in range(32):  # 62 s of 2 s polls
                now[0] = 1_000.0 + 2 * step
                if step == 5:
                    device.overrides["output_priority"] = 0  # the user changes a setting
                before = source.transport.requests
                reading = await source.poll()
                per_poll.append(source.transport.requests - before)
                setting = next(d for d in reading.values if d.spec.name == "output_priority")
                priorities.append(setting.state)
                assert reading.number("mains_voltage") is not None
                assert reading.serial_number  # cached between slow reads, never dropped
        finally:
            await source.transport.close()
    fast, every = len(regmap.fast_ranges), len(regmap.ranges)
    assert fast == 1 and every == 4
    # Slow ranges at t=0 and again at t=60 s; the fast one on every poll.
    assert per_poll == [every] + [fast] * 29 + [every] + [fast]
    assert priorities[0] == "sbu" and priorities[29] == "sbu"  # the change waits for the slow read
    assert priorities[30] == "uti"


# A slow register of each Deye map, its simulated value and what the user changes it to.
SLOW_PROBE = {
    "deye-1p": ("operating_mode", 2, 3),  # normal → alarm
    "deye-3p": ("grid_charge_start_soc", 30, 45),
    "deye-3p-hv": ("grid_charge_start_soc", 30, 45),
}


@pytest.mark.parametrize("kind", sorted(DEYE_MODELS))
async def test_a_deye_behind_its_logger_reads_slow_registers_once_a_minute(kind: str) -> None:
    """Over the Solarman stick, where every request costs a Wi-Fi round trip."""
    now = [1_000.0]
    device = deye_device(kind, Scenario(start=now[0]), clock=lambda: now[0])
    regmap = device.regmap
    async with SolarmanLoggerSimulator(device) as logger:
        config = parse_config(
            {"inverters": [{"name": "deye", "transport": "solarman", "host": "127.0.0.1",
                            "port": logger.port, "logger_serial": logger.logger_serial,
                            "model": regmap.model, "interval": "2s", "slow_interval": "60s",
                            "retries": 0}]}
        )  # fmt: skip
        source = InverterSource(INVERTERS.of(config)[0], clock=lambda: now[0])
        try:
            name, was, changed = SLOW_PROBE[kind]
            per_poll, slow, grid = [], [], []
            for step in range(32):  # 62 s of 2 s polls
                now[0] = 1_000.0 + 2 * step
                if step == 5:
                    device.overrides[name] = changed  # the user changes a setting
                    device.grid_override = False  # and the grid goes: seen on the next poll
                before = logger.requests
                reading = await source.poll()
                per_poll.append(logger.requests - before)
                slow.append(next(d.value for d in reading.values if d.spec.name == name))
                grid.append(reading.number("grid_connected"))
                assert reading.serial_number == "2306241234"  # cached between slow reads
        finally:
            await source.transport.close()
    fast, every = len(regmap.fast_ranges), len(regmap.ranges)
    assert fast < every
    assert per_poll == [every] + [fast] * 29 + [every] + [fast]
    assert grid[4] == 1 and grid[5] == 0  # the relay is on the fast path
    assert slow[5] == was and slow[29] == was  # the change waits for the slow read
    assert slow[30] == changed
