"""The exporter against the pymodbus server (Modbus TCP, RTU over TCP) and a serial pty.

The serial test opens a pseudo-terminal's device path exactly like /dev/ttyUSB0: pymodbus' serial
client, pyserial and RTU framing run for real; only baud rate and wiring are not exercised.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.serial import SerialInverterSimulator
from gridwatch.sources.inverter.regmap import load_shipped
from tests.helpers import value
from tests.integration.inverter_harness import (
    Start,
    errors,
    inverter_exporters,
    soc,
    up,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with inverter_exporters(tmp_path, timeout="0.5s") as run:
        yield run


@pytest.fixture
async def servers() -> AsyncIterator[list[ModbusInverterServer]]:
    running: list[ModbusInverterServer] = []
    yield running
    for server in running:
        await server.stop()


async def serve(
    running: list[ModbusInverterServer], framing: str, model: str = "smg_ii"
) -> ModbusInverterServer:
    server = ModbusInverterServer(InverterDevice(load_shipped(model)), framing=framing)  # type: ignore[arg-type]
    await server.start()
    running.append(server)
    return server


@pytest.mark.parametrize("model", ["smg_ii", "smg_ii_11k", "smx_ii"])
async def test_tcp_reads_each_shipped_map(
    start: Start, servers: list[ModbusInverterServer], model: str
) -> None:
    server = await serve(servers, "tcp", model)
    gw = await start(transport="tcp", host="127.0.0.1", port=server.port, model=model)
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    assert soc(s) == 0.66
    assert 225 <= (value(s, "gridwatch_inverter_mains_voltage_volts", inverter="smg") or 0) <= 235
    assert value(s, "gridwatch_inverter_output_power_watts", inverter="smg") is not None
    mode = "inverter" if model == "smx_ii" else "off_grid"
    assert value(s, "gridwatch_inverter_operating_mode", inverter="smg", mode=mode) == 1
    await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)


async def test_tcp_exception_timeout_and_peer_restart(
    start: Start, servers: list[ModbusInverterServer]
) -> None:
    server = await serve(servers, "tcp")
    gw = await start(transport="tcp", host="127.0.0.1", port=server.port)
    await gw.wait_for("values", lambda s: soc(s) is not None)

    server.device.exception = 2
    s = await gw.wait_for("exception", lambda s: errors(s, "modbus_exception") >= 1)
    assert up(s) == 0
    server.device.exception = None
    await gw.wait_for("recovery", lambda s: up(s) == 1)

    server.delay = 2.0  # longer than the 0.5 s request timeout
    await gw.wait_for("timeout", lambda s: errors(s, "timeout") >= 1)
    server.delay = 0.0
    await gw.wait_for("recovery", lambda s: up(s) == 1)

    await server.stop()
    s = await gw.wait_for("gateway gone", lambda s: errors(s, "connection") >= 1)
    assert up(s) == 0
    await gw.wait_for("values aged out", lambda s: soc(s) is None)  # staleness: 3 × interval
    await server.start()  # same port
    await gw.wait_for("gateway back", lambda s: up(s) == 1 and soc(s) is not None)


async def test_gateway_that_refuses(start: Start) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gw = await start(transport="tcp", host="127.0.0.1", port=port)
    s = await gw.wait_for("refused", lambda s: errors(s, "connection") >= 2)
    assert up(s) == 0 and soc(s) is None
    _, page, _ = await gw.get("/")
    assert f"127.0.0.1:{port}" in page


async def test_rtu_over_tcp_crc_error_and_recovery(
    start: Start, servers: list[ModbusInverterServer]
) -> None:
    server = await serve(servers, "rtu_over_tcp")
    gw = await start(transport="rtu_over_tcp", host="127.0.0.1", port=server.port)
    await gw.wait_for("values", lambda s: soc(s) is not None)
    server.corrupt_crc = True
    s = await gw.wait_for("crc errors", lambda s: errors(s, "crc") >= 1)
    assert up(s) == 0
    server.corrupt_crc = False
    await gw.wait_for("recovery", lambda s: up(s) == 1)


async def test_serial_rtu_through_a_pty(start: Start) -> None:
    sim = SerialInverterSimulator(InverterDevice(load_shipped("smg_ii")))
    await sim.start()
    try:
        gw = await start(transport="serial", device=sim.path)
        s = await gw.wait_for("values", lambda s: soc(s) is not None)
        assert value(s, "gridwatch_inverter_operating_mode", inverter="smg", mode="off_grid") == 1
        sim.corrupt_crc = True
        await gw.wait_for("crc errors", lambda s: errors(s, "crc") >= 1)
        sim.corrupt_crc = False
        await gw.wait_for("recovery", lambda s: up(s) == 1)
    finally:
        await sim.stop()


async def test_missing_serial_adapter_is_a_clear_error(start: Start, tmp_path: Path) -> None:
    gw = await start(transport="serial", device=str(tmp_path / "ttyUSB9"))
    s = await gw.wait_for("connection errors", lambda s: errors(s, "connection") >= 1)
    assert up(s) == 0
    _, page, _ = await gw.get("/")
    assert "USB serial adapter" in page


async def test_registers_the_unit_lacks_are_skipped_once_logged(
    start: Start, servers: list[ModbusInverterServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gridwatch")
    server = await serve(servers, "tcp")
    server.device.unsupported = {643}  # this firmware has no rated-power register
    gw = await start(transport="tcp", host="127.0.0.1", port=server.port)
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    requests = server.device.reads
    await gw.wait_for("more polls", lambda s: server.device.reads >= requests + 10)
    s = await gw.scrape()
    assert up(s) == 1 and errors(s, "modbus_exception") == 0
    assert value(s, "gridwatch_inverter_rated_power_watts", inverter="smg") is None  # absent
    assert value(s, "gridwatch_inverter_battery_voltage_volts", inverter="smg") is not None
    skipped = [r for r in caplog.records if "illegal data address" in r.getMessage()]
    assert len(skipped) == 1 and "643..643" in skipped[0].getMessage()


async def test_own_map_file_is_read_and_exported(
    start: Start, servers: list[ModbusInverterServer], tmp_path: Path
) -> None:
    """A user's model_file (here: three vendor registers, one under a name of its own)."""
    (tmp_path / "mine.yaml").write_text(
        "model: my_smg\n"
        "registers:\n"
        "  - {name: mains_voltage, address: 202, scale: 0.1, unit: V, metric: mains_voltage}\n"
        "  - {name: battery_soc, address: 229, type: uint16, unit: '%', metric: battery_soc}\n"
        "  - {name: heatsink, address: 227, unit: °C, metric: temperature, label: heatsink}\n",
        encoding="utf-8",
    )
    server = await serve(servers, "tcp")
    server.device.overrides["inverter_temperature"] = 41  # register 227 of the vendor map
    gw = await start(
        transport="tcp", host="127.0.0.1", port=server.port, model_file=str(tmp_path / "mine.yaml")
    )
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    assert soc(s) == 0.66
    info = [labels for n, labels in s if n == "gridwatch_inverter_info"]
    assert ("model", "my_smg") in info[0]
    assert (
        value(s, "gridwatch_inverter_temperature_celsius", inverter="smg", sensor="heatsink") == 41
    )
    assert value(s, "gridwatch_inverter_output_power_watts", inverter="smg") is None  # not mapped
