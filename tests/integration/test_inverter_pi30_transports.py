"""PI30 and PI18 inverters over each transport against their simulators: values, the grid
state, and every fault (bad CRC, NAK, silence, garbage that passes its CRC) marking the source
down with the right reason, then recovery when the unit behaves again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice, frame
from gridwatch.sources.inverter.regmap import load_shipped
from tests.helpers import Samples, value
from tests.integration.inverter_harness import (
    each_fault_recovers,
    errors,
    inverter_exporters,
    soc,
    up,
)

pytestmark = [pytest.mark.integration, pytest.mark.clock]


@contextlib.asynccontextmanager
async def simulated(device: VoltronicDevice, transport: str) -> AsyncIterator[dict[str, Any]]:
    """The simulator for ``transport`` and the inverter config that reaches it."""
    if transport == "eybond":
        async with EybondDongleSimulator(device) as dongle:
            yield {
                "transport": "eybond",
                "host": "127.0.0.1",
                "dongle_port": dongle.udp_port,
                "listen_host": "127.0.0.1",
                "listen_port": 0,
                "connect_timeout": "2s",
            }
        return
    async with AsciiLineSimulator(device, hid=transport == "hid") as line:
        yield {"transport": transport, "device": line.path}
        assert line.unpadded == 0  # every HID request went out as whole 8-byte reports


def grid(s: Samples) -> float | None:
    return value(s, "gridwatch_grid_up")


@pytest.mark.parametrize(
    ("transport", "family"),
    [("serial", "pi30"), ("hid", "pi30"), ("eybond", "pi30"), ("serial", "pi18"), ("hid", "pi18")],
)
async def test_faults_mark_the_source_down_with_the_reason_and_it_recovers(
    tmp_path: Path, transport: str, family: str
) -> None:
    device = VoltronicDevice(family, max_model=True)
    async with (
        simulated(device, transport) as where,
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(protocol=family, **where)
        await gw.wait_for("values", lambda s: up(s) == 1 and soc(s) is not None)
        if family == "pi30":
            s = await gw.scrape()
            assert (
                value(s, "gridwatch_inverter_pv_power_watts", inverter="smg", string="2")
                is not None
            )
        faults = (("corrupt_crc", "crc"), ("nak_all", "nak"), ("garbage", "payload"))
        await each_fault_recovers(gw, device, (*faults, ("silent", "timeout")))


@pytest.mark.parametrize("family", ["pi30", "pi18"])
async def test_grid_loss_and_return_drive_grid_up(tmp_path: Path, family: str) -> None:
    device = VoltronicDevice(family)
    async with (
        simulated(device, "serial") as where,
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(protocol=family, battery_capacity_wh=5120, **where)
        s = await gw.wait_for("grid up", lambda s: grid(s) == 1)
        # What the bot's /status and /battery and the outage runtime read, as for an SMG-II.
        for name in ("battery_power_watts", "pv_total_power_watts", "output_power_watts"):
            assert value(s, f"gridwatch_inverter_{name}", inverter="smg") is not None, name
        device.grid_override = False
        s = await gw.wait_for("grid down", lambda s: grid(s) == 0)
        assert value(s, "gridwatch_inverter_mains_voltage_volts", inverter="smg") == 0
        assert value(s, "gridwatch_inverter_warning", inverter="smg", warning="mains_fail") == 1
        device.grid_override = True
        await gw.wait_for("grid back", lambda s: grid(s) == 1)


async def test_a_modbus_inverter_answering_in_pi30_says_so(tmp_path: Path) -> None:
    """The dongle forwards our Modbus frame to a PI30 unit, which answers (NAK in ASCII."""
    async with (
        EybondDongleSimulator(VoltronicDevice("pi30")) as dongle,
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(
            transport="eybond",
            host="127.0.0.1",
            dongle_port=dongle.udp_port,
            listen_host="127.0.0.1",
            listen_port=0,
        )
        await gw.wait_for("protocol error", lambda s: errors(s, "protocol") >= 1)
        _status, page, _ = await gw.get("/")
        assert "the inverter answered in PI30 ASCII; set protocol: pi30" in page, page[-2000:]
        s = await gw.scrape()
        assert errors(s, "crc") == 0


async def test_pi30_configured_in_front_of_a_modbus_unit_is_down_with_timeout(
    tmp_path: Path,
) -> None:
    """A Modbus unit ignores ASCII commands (no CR-terminated RTU frame): silence, not values."""
    async with (
        EybondDongleSimulator(InverterDevice(load_shipped("smg_ii"))) as dongle,
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(
            protocol="pi30",
            transport="eybond",
            host="127.0.0.1",
            dongle_port=dongle.udp_port,
            listen_host="127.0.0.1",
            listen_port=0,
        )
        s = await gw.wait_for("down", lambda s: up(s) == 0 and errors(s, "timeout") >= 1)
        assert soc(s) is None


async def test_a_transparent_bridge_to_a_pi30_unit_says_so(tmp_path: Path) -> None:
    """RTU over TCP to a bridge whose PI30 unit answers every Modbus frame with (NAK."""

    async def unit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await reader.read(64):
                writer.write(frame(b"(NAK"))
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(unit, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with inverter_exporters(tmp_path, timeout="0.5s") as start:
            gw = await start(transport="rtu_over_tcp", host="127.0.0.1", port=port)
            await gw.wait_for("protocol error", lambda s: errors(s, "protocol") >= 1)
            _status, page, _ = await gw.get("/")
            assert "the inverter answered in PI30 ASCII; set protocol: pi30" in page
    finally:
        server.close()
        await server.wait_closed()
