"""Faults on the pymodbus transports, the same for every wiring: exceptions, silence, bad bytes.

Each wiring runs against its simulator on loopback (pymodbus server for Modbus TCP and RTU over
TCP, a pty for serial); byte-level misbehaviour the pymodbus server cannot produce comes from a
scripted gateway on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.serial import SerialInverterSimulator
from gridwatch.sources.inverter.regmap import load_shipped
from gridwatch.sources.inverter.rtu import crc16
from tests.helpers import Samples, value
from tests.integration.conftest import Running
from tests.integration.inverter_harness import (
    Start,
    errors,
    inverter_exporters,
    soc,
    up,
)

pytestmark = pytest.mark.integration
FRAMINGS = ["tcp", "rtu_over_tcp", "serial"]


async def page(gw: Running) -> str:
    return (await gw.get("/"))[1]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with inverter_exporters(tmp_path, timeout="0.4s") as run:
        yield run


class Peer:
    """The simulated inverter behind one wiring, with the two faults every wiring can show."""

    def __init__(self, framing: str) -> None:
        self.framing = framing
        self.device = InverterDevice(load_shipped("smg_ii"))
        self.server: ModbusInverterServer | None = None
        self.serial: SerialInverterSimulator | None = None

    async def start(self) -> dict[str, Any]:
        if self.framing == "serial":
            self.serial = SerialInverterSimulator(self.device)
            await self.serial.start()
            return {"transport": "serial", "device": self.serial.path}
        self.server = ModbusInverterServer(self.device, framing=self.framing)  # type: ignore[arg-type]
        await self.server.start()
        return {"transport": self.framing, "host": "127.0.0.1", "port": self.server.port}

    def silence(self, on: bool) -> None:
        if self.serial is not None:
            self.serial.silent = on
        elif self.server is not None:
            self.server.delay = 2.0 if on else 0.0  # far beyond the 0.4 s request timeout

    async def stop(self) -> None:
        if self.serial is not None:
            await self.serial.stop()
        if self.server is not None:
            await self.server.stop()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[[str], Peer]]:
    made: list[Peer] = []

    def make(framing: str) -> Peer:
        made.append(Peer(framing))
        return made[-1]

    yield make
    for peer in made:
        await peer.stop()


@pytest.mark.parametrize("framing", FRAMINGS)
async def test_exception_and_silence_on_every_wiring(
    start: Start, peers: Callable[[str], Peer], framing: str
) -> None:
    peer = peers(framing)
    gw = await start(**await peer.start())
    await gw.wait_for("values", lambda s: soc(s) is not None)

    peer.device.exception = 7
    s = await gw.wait_for("exception", lambda s: errors(s, "modbus_exception") >= 1)
    assert up(s) == 0
    assert "not allowed in the current working mode" in await page(gw)
    peer.device.exception = None
    await gw.wait_for("recovery", lambda s: up(s) == 1)

    peer.silence(True)
    s = await gw.wait_for("timeouts", lambda s: errors(s, "timeout") >= 2)
    assert up(s) == 0
    assert value(s, "gridwatch_grid_up") is None  # a silent inverter: unknown, never "down"
    await gw.wait_for("values aged out", lambda s: soc(s) is None)  # no frozen values
    peer.silence(False)
    s = await gw.wait_for("recovery", lambda s: up(s) == 1 and soc(s) is not None)
    assert errors(s, "crc") == 0 and errors(s, "protocol") == 0  # each fault named for what it is
    await gw.wait_for("grid known again", lambda s: value(s, "gridwatch_grid_up") == 1)


@pytest.mark.parametrize("framing", ["tcp", "rtu_over_tcp"])
async def test_reply_with_another_function_is_a_protocol_error(
    start: Start, peers: Callable[[str], Peer], framing: str
) -> None:
    peer = peers(framing)
    gw = await start(**await peer.start())
    await gw.wait_for("values", lambda s: soc(s) is not None)
    assert peer.server is not None
    peer.server.wrong_function = True  # a function 04 reply to a function 03 read
    s = await gw.wait_for("protocol errors", lambda s: errors(s, "protocol") >= 1)
    assert up(s) == 0
    assert "function 0x04" in await page(gw)
    peer.server.wrong_function = False
    await gw.wait_for("recovery", lambda s: up(s) == 1)


async def test_rtu_frames_on_a_tcp_wiring_name_the_fix(
    start: Start, peers: Callable[[str], Peer], caplog: pytest.LogCaptureFixture
) -> None:
    """A transparent serial bridge configured as transport tcp answers with bare RTU frames."""
    caplog.set_level(logging.WARNING)
    peer = peers("tcp")
    gw = await start(**await peer.start())
    await gw.wait_for("values", lambda s: soc(s) is not None)
    assert peer.server is not None
    reply = bytes.fromhex("01030608fc138804b0")  # the vendor document's example reply
    peer.server.reply_bytes = reply + crc16(reply)
    s = await gw.wait_for("protocol errors", lambda s: errors(s, "protocol") >= 3)
    assert up(s) == 0
    assert "needs rtu_over_tcp" in await page(gw)
    peer.server.reply_bytes = b"\xff" * 20  # plain garbage
    await gw.wait_for("garbage", lambda s: errors(s, "protocol") >= 6)
    assert "not Modbus TCP: ff ff" in await page(gw)
    peer.server.reply_bytes = None
    await gw.wait_for("recovery", lambda s: up(s) == 1)
    # pymodbus' decoder never saw the bad bytes: no traceback per poll, one line per transition
    assert not [r for r in caplog.records if r.name == "asyncio"]
    downs = [r for r in caplog.records if "is down" in r.getMessage()]
    assert len(downs) == 1


async def _scripted_gateway(
    reply: Callable[[bytes], list[bytes]],
) -> tuple[asyncio.Server, int]:
    """An RTU-over-TCP peer that answers every request with ``reply``'s pieces, 50 ms apart."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while request := await reader.read(256):
                for piece in reply(request):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.05)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


def _vendor_reply(request: bytes) -> bytes:
    count = int.from_bytes(request[4:6])
    body = bytes((1, 3, 2 * count)) + bytes(2 * count)
    return body + crc16(body)


async def test_split_reply_that_stops_is_a_timeout_not_a_crc_error(start: Start) -> None:
    """Pieces of a good reply, then nothing: the gateway lost the rest, the checksum is not bad."""
    server, port = await _scripted_gateway(lambda q: [_vendor_reply(q)[:4], _vendor_reply(q)[4:9]])
    try:
        gw = await start(transport="rtu_over_tcp", host="127.0.0.1", port=port)
        s = await gw.wait_for("timeouts", lambda s: errors(s, "timeout") >= 2)
        assert errors(s, "crc") == 0 and up(s) == 0
        assert "bytes received form no reply: 01 03" in await page(gw)
    finally:
        server.close()


async def test_reply_from_another_unit_is_named(start: Start) -> None:
    def other_unit(request: bytes) -> list[bytes]:
        body = bytes((2,)) + _vendor_reply(request)[1:-2]
        return [body + crc16(body)]

    server, port = await _scripted_gateway(other_unit)
    try:
        gw = await start(transport="rtu_over_tcp", host="127.0.0.1", port=port)
        s = await gw.wait_for("protocol errors", lambda s: errors(s, "protocol") >= 1)
        assert up(s) == 0
        assert "reply from unit 2, expected 1" in await page(gw)
    finally:
        server.close()


async def test_tcp_reconnects_leak_no_sockets(start: Start, peers: Callable[[str], Peer]) -> None:
    peer = peers("tcp")
    gw = await start(**await peer.start())
    await gw.wait_for("values", lambda s: soc(s) is not None)
    assert peer.server is not None
    fds_before = len(os.listdir("/proc/self/fd"))
    for n in range(1, 6):
        await peer.server.stop()

        def refused(s: Samples, n: int = n) -> bool:
            return errors(s, "connection") >= n

        await gw.wait_for(f"gone {n}", refused)
        await peer.server.start()
        await gw.wait_for(f"back {n}", lambda s: up(s) == 1)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 1


@pytest.mark.parametrize(
    ("served", "configured"), [("rtu_over_tcp", "tcp"), ("tcp", "rtu_over_tcp")]
)
async def test_the_wrong_one_of_tcp_and_rtu_over_tcp_is_silence_with_a_hint(
    start: Start, peers: Callable[[str], Peer], served: str, configured: str
) -> None:
    peer = peers(served)
    wiring = await peer.start()
    gw = await start(**{**wiring, "transport": configured})
    s = await gw.wait_for("timeouts", lambda s: errors(s, "timeout") >= 2)
    assert up(s) == 0 and soc(s) is None
    assert f"try transport {served}" in await page(gw)
