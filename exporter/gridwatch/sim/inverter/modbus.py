"""The simulated inverter behind a pymodbus server: Modbus TCP or RTU frames over TCP.

RTU-over-TCP is what a transparent serial-to-Ethernet gateway in front of the RS232/RS485 port
looks like. Every read refreshes the requested registers from the device model (pymodbus'
``action`` hook), so the scenario and the test's controls apply to the next request. Faults:
``corrupt_crc`` flips the CRC of RTU replies, ``delay`` holds replies back (timeouts),
``wrong_function`` answers with another function code (CRC still valid), ``reply_bytes`` sends
those bytes instead of every reply (garbage, or an RTU frame where Modbus TCP is expected).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sources.inverter.rtu import crc16

# pymodbus logs a traceback for requests to unknown device ids; tests make those on purpose.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

_SPACE = 65535  # registers 0..65534: every address a map may use


class ModbusInverterServer:
    def __init__(
        self,
        device: InverterDevice,
        *,
        framing: Literal["tcp", "rtu_over_tcp"] = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.device = device
        self.framing = framing
        self.host = host
        self._wanted_port = port
        self.port: int | None = None
        self.corrupt_crc = False
        self.delay = 0.0
        self.wrong_function = False
        self.reply_bytes: bytes | None = None
        self._server: ModbusTcpServer | None = None

    async def start(self) -> None:
        sim = SimDevice(
            id=self.device.unit,
            simdata=[SimData(0, count=_SPACE, values=0, datatype=DataType.REGISTERS)],
            action=self._action,
        )
        framer = FramerType.SOCKET if self.framing == "tcp" else FramerType.RTU
        self._server = ModbusTcpServer(
            sim,
            address=(self.host, self.port or self._wanted_port),
            framer=framer,
            trace_packet=self._trace,
        )
        await self._server.serve_forever(background=True)
        sockets = getattr(self._server.transport, "sockets", None)
        assert sockets, "pymodbus server is not listening"
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop clients; ``start`` again serves on the same port."""
        if self._server is not None:
            server, self._server = self._server, None
            with contextlib.suppress(Exception):
                await server.shutdown()  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> ModbusInverterServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _action(  # noqa: PLR0917 (pymodbus calls it positionally)
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        result = self.device.read(address, count)
        if isinstance(result, int):
            return ExcCodes(result)
        registers[address - start_address : address - start_address + count] = result
        return None

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            return data
        if self.reply_bytes is not None:
            return self.reply_bytes
        rtu = self.framing == "rtu_over_tcp"
        if self.wrong_function:
            at = 1 if rtu else 7  # after the unit (RTU) or the 7-byte MBAP header
            data = data[:at] + bytes((data[at] ^ 0x07,)) + data[at + 1 :]  # 03 ↔ 04
            if rtu:
                data = data[:-2] + crc16(data[:-2])
        if self.corrupt_crc and rtu and len(data) > 2:
            return data[:-1] + bytes((data[-1] ^ 0xFF,))
        return data
