"""A simulated Deye behind the pymodbus server: Modbus TCP gateway and transparent RS485 bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from tests.helpers import value
from tests.integration.inverter_harness import Start, errors, inverter_exporters, soc, up

pytestmark = pytest.mark.integration


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with inverter_exporters(tmp_path, timeout="0.4s") as run:
        yield run


@pytest.mark.parametrize(
    ("kind", "framing"), [("deye-1p", "rtu_over_tcp"), ("deye-3p", "tcp"), ("deye-1p", "tcp")]
)
async def test_deye_over_modbus_reads_and_recovers(start: Start, kind: str, framing: str) -> None:
    device = deye_device(kind)
    async with ModbusInverterServer(device, framing=framing) as server:  # type: ignore[arg-type]
        gw = await start(
            transport=framing, host="127.0.0.1", port=server.port, model=device.regmap.model
        )
        s = await gw.wait_for("values", lambda s: soc(s) is not None)
        load = value(s, "gridwatch_inverter_energy_joules_total", inverter="smg", flow="load")
        assert load is not None  # 0 at the first poll: the counter starts with the simulator
        assert value(s, "gridwatch_inverter_grid_connected", inverter="smg") == 1
        await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
        device.exception = 6  # busy
        s = await gw.wait_for("exception", lambda s: errors(s, "modbus_exception") >= 1)
        assert up(s) == 0
        device.exception = None
        await gw.wait_for("recovery", lambda s: up(s) == 1)
