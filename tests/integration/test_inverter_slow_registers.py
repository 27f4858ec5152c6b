"""The gentler poll: registers the map marks ``slow`` (settings, faults, serial number) are read
every ``slow_interval``; the block that decides grid state and output on every poll. Against the
pymodbus server, counting the requests it answers; the source's clock is a test clock."""

from __future__ import annotations

import pytest

from gridwatch.config import parse_config
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sources.inverter import INVERTERS
from gridwatch.sources.inverter.regmap import MapError, load_shipped, shipped_models
from gridwatch.sources.inverter.source import InverterSource

pytestmark = pytest.mark.integration


# The Deye maps read everything in two to four requests a poll and mark nothing slow yet.
GENTLE = [m for m in shipped_models() if not m.startswith("deye_")]


@pytest.mark.parametrize("model", GENTLE)
def test_every_shipped_map_reads_grid_and_output_fast(model: str) -> None:
    regmap = load_shipped(model)
    fast = {r.name for r in regmap.registers if not r.slow}
    assert {"mains_voltage", "mains_frequency", "operating_mode"} <= fast
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
