"""A simulated Deye behind the pymodbus server (Modbus TCP gateway, transparent RS485 bridge)
and on its RS485 port (a pty): values, exceptions, CRC errors and silence, recovery."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.serial import SerialInverterSimulator
from tests.helpers import value
from tests.integration.inverter_harness import Start, errors, inverter_exporters, soc, up

pytestmark = pytest.mark.integration


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with inverter_exporters(tmp_path, timeout="0.4s") as run:
        yield run


@pytest.mark.parametrize(
    ("kind", "framing"),
    [("deye-1p", "rtu_over_tcp"), ("deye-3p", "tcp"), ("deye-1p", "tcp"), ("deye-3p-hv", "tcp")],
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


@pytest.mark.parametrize("wiring", ["serial", "rtu_over_tcp"])
async def test_deye_hv_on_rs485_crc_error_and_silence_then_recovery(
    start: Start, wiring: str
) -> None:
    """The HV unit on its RS485 port (a pty) or behind a transparent gateway: a corrupted CRC
    is reason crc, silence is timeout; no stale value stays; it recovers when the line heals."""
    device = deye_device("deye-3p-hv")
    async with contextlib.AsyncExitStack() as stack:
        if wiring == "serial":
            line = SerialInverterSimulator(device)
            await line.start()
            stack.push_async_callback(line.stop)
            where: dict[str, object] = {"transport": "serial", "device": line.path}
            peer: SerialInverterSimulator | ModbusInverterServer = line
        else:
            server = await stack.enter_async_context(
                ModbusInverterServer(device, framing="rtu_over_tcp")
            )
            where = {"transport": "rtu_over_tcp", "host": "127.0.0.1", "port": server.port}
            peer = server
        gw = await start(**where, model="deye_sg01hp3")
        s = await gw.wait_for("values", lambda s: soc(s) is not None)
        volts = value(s, "gridwatch_inverter_battery_voltage_volts", inverter="smg")
        assert volts is not None and volts > 300  # the HV pack at ×0.1 V
        for fault, reason in (("corrupt_crc", "crc"), ("silent", "timeout")):
            _fault(peer, fault, on=True)
            s = await gw.wait_for(f"{reason} errors", lambda s, r=reason: errors(s, r) >= 1)
            s = await gw.wait_for("down", lambda s: up(s) == 0 and soc(s) is None)
            assert value(s, "gridwatch_grid_up") is None  # unknown, never a stale "up"
            _fault(peer, fault, on=False)
            await gw.wait_for(
                f"recovery after {fault}", lambda s: up(s) == 1 and soc(s) is not None
            )


def _fault(peer: SerialInverterSimulator | ModbusInverterServer, fault: str, *, on: bool) -> None:
    if fault == "corrupt_crc":
        peer.corrupt_crc = on
    elif isinstance(peer, SerialInverterSimulator):
        peer.silent = on
    else:
        peer.delay = 2.0 if on else 0.0  # the gateway holds the reply past the 0.4 s timeout
