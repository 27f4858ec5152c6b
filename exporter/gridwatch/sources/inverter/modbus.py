"""Modbus RTU over serial, Modbus TCP and RTU-over-TCP through pymodbus' async clients.

pymodbus drops replies whose CRC (or unit) does not match and then times out; the raw bytes it
received are watched (``trace_packet``) so such a timeout is reported as what it was (a CRC error,
a reply from another unit), not as silence. Modbus TCP bytes that are no MBAP reply to our read
are kept from pymodbus, whose decoder would otherwise log a traceback and drop the connection.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.voltronic import sniff
from gridwatch.sources.inverter.rtu import (
    EXCEPTION_BIT,
    EXCEPTION_NAMES,
    READ_HOLDING,
    FrameError,
    crc_ok,
    parse_read_response,
    response_length,
)
from gridwatch.sources.inverter.transport import ModbusExceptionError

# pymodbus logs every failed connect and timeout; gridwatch reports them through the source's
# health instead (logged once per up/down transition), so only pymodbus' own faults get through.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

Framing = Literal["tcp", "rtu_over_tcp", "serial"]


@dataclass(frozen=True, slots=True)
class ModbusSettings:
    framing: Framing
    host: str | None = None  # tcp and rtu_over_tcp
    port: int = 502
    device: str | None = None  # serial: /dev/ttyUSB0 (or a pyserial URL such as socket://…)
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1
    unit: int = 1
    function: int = READ_HOLDING
    timeout: float = 5.0
    retries: int = 1


class PymodbusTransport:
    def __init__(self, settings: ModbusSettings) -> None:
        self.s = settings
        self.requests = 0
        self._received = bytearray()  # raw bytes since the last request
        self._not_mbap: str | None = None  # why the Modbus TCP reply was kept from pymodbus
        self._client: ModbusBaseClient | None = None

    def describe(self) -> str:
        if self.s.framing == "serial":
            return f"serial {self.s.device} at {self.s.baudrate} baud"
        kind = "Modbus TCP" if self.s.framing == "tcp" else "RTU over TCP"
        return f"{kind} {self.s.host}:{self.s.port}"

    def _make_client(self) -> ModbusBaseClient:
        common = {
            "timeout": self.s.timeout,
            "retries": self.s.retries,
            "reconnect_delay": 0,  # gridwatch's poll loop decides when to try again
            "trace_packet": self._trace,
        }
        if self.s.framing == "serial":
            assert self.s.device is not None
            return AsyncModbusSerialClient(
                self.s.device,
                framer=FramerType.RTU,
                baudrate=self.s.baudrate,
                parity=self.s.parity,
                stopbits=self.s.stopbits,
                bytesize=8,
                **common,  # type: ignore[arg-type]
            )
        assert self.s.host is not None
        framer = FramerType.SOCKET if self.s.framing == "tcp" else FramerType.RTU
        return AsyncModbusTcpClient(self.s.host, port=self.s.port, framer=framer, **common)  # type: ignore[arg-type]

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._received.clear()
            self._not_mbap = None
            return data
        # pymodbus passes its whole receive buffer each time (earlier bytes again plus the new
        # ones) until it can cut a frame from it.
        if data.startswith(self._received):
            self._received[:] = data
        else:
            self._received += data
        if self.s.framing == "tcp" and (why := self._mbap_problem(data)) is not None:
            self._not_mbap = why
            return b""  # never a reply to our read: let the request time out cleanly
        return data

    def _mbap_problem(self, data: bytes) -> str | None:
        """Why ``data`` cannot start a Modbus TCP reply to our read (None: it can, or too short)."""
        if len(data) < 8:
            return None
        protocol, length, function = int.from_bytes(data[2:4]), int.from_bytes(data[4:6]), data[7]
        if protocol != 0 or not 3 <= length <= 254:
            hint = ""
            if crc_ok(data[: response_length(data[:3]) or len(data)]):
                hint = " (it is an RTU frame: a transparent serial bridge needs rtu_over_tcp)"
            return f"a reply that is not Modbus TCP{hint}: {data[:12].hex(' ')}"
        if function not in {self.s.function, self.s.function | EXCEPTION_BIT}:
            return f"a reply with function {function:#04x} to a read with {self.s.function:#04x}"
        if function == self.s.function and len(data) >= 9 and length != 3 + data[8]:
            return f"a reply whose byte count {data[8]} does not fit its length {length}"
        return None

    async def _connected(self) -> ModbusBaseClient:
        if self._client is None:
            self._client = self._make_client()
        if not self._client.connected:
            try:
                ok = await self._client.connect()
            except (OSError, ModbusException) as exc:
                ok = False
                detail = f": {exc}"
            else:
                detail = ""
            if not ok:
                await self.close()
                device = self.s.device or ""
                if (
                    self.s.framing == "serial"
                    and "://" not in device
                    and not os.path.exists(device)  # noqa: ASYNC240 (one stat, on failure)
                ):
                    detail = " (no such device: is the USB serial adapter plugged in?)"
                raise SourceError("connection", f"cannot connect to {self.describe()}{detail}")
        return self._client

    async def read(self, start: int, count: int) -> list[int]:
        client = await self._connected()
        self.requests += 1
        read = (
            client.read_holding_registers
            if self.s.function == READ_HOLDING
            else client.read_input_registers
        )
        try:
            reply = await read(start, count=count, device_id=self.s.unit)
        except ModbusIOException as exc:
            dropped = not client.connected
            await self.close()  # the stream may be out of step; start clean next time
            if dropped:
                raise SourceError(
                    "disconnected", f"{self.describe()} closed the connection mid-request"
                ) from None
            if (bad := self._bad_reply(count)) is not None:
                raise SourceError(
                    bad.reason, f"{self.describe()} sent {bad.message} (read at {start})"
                ) from None
            if self._received:
                got = f"; the {len(self._received)} bytes received form no reply: "
                got += bytes(self._received[:16]).hex(" ")
            elif self.s.framing == "serial":
                got = " (nothing came back: check the wiring, baud rate and unit)"
            else:
                # A transparent bridge passes Modbus TCP frames to the inverter, which ignores
                # them; a Modbus TCP gateway drops RTU frames: either way, silence.
                other = "rtu_over_tcp" if self.s.framing == "tcp" else "tcp"
                got = f" (nothing came back: check the unit, or try transport {other})"
            raise SourceError(
                "timeout",
                f"no valid reply from {self.describe()} to a read at {start}: {exc}{got}",
            ) from None
        except ConnectionException as exc:
            await self.close()
            raise SourceError("disconnected", f"{self.describe()}: {exc}") from None
        except ModbusException as exc:
            await self.close()
            raise SourceError("protocol", f"{self.describe()}: {exc}") from None
        if reply.isError():
            code = int(getattr(reply, "exception_code", 0))
            name = EXCEPTION_NAMES.get(code, "unknown exception")
            raise ModbusExceptionError(
                code, f"Modbus exception {code}: {name} reading {count} at {start}"
            )
        if reply.function_code != self.s.function:
            raise SourceError(
                "protocol",
                f"{self.describe()} answered a read with function {self.s.function:#04x} "
                f"with function {reply.function_code:#04x}",
            )
        registers = list(reply.registers)
        if len(registers) != count:
            raise SourceError("protocol", f"asked for {count} registers, got {len(registers)}")
        return registers

    def _bad_reply(self, count: int) -> FrameError | None:
        """What was wrong with the bytes pymodbus received and silently dropped, if anything."""
        if self.s.framing == "tcp":
            return None if self._not_mbap is None else FrameError("protocol", self._not_mbap)
        data = bytes(self._received)
        if (other := sniff(data)) is not None:
            return FrameError("protocol", other)
        size = response_length(data)
        if size is None or len(data) < size:
            return None  # nothing, or an incomplete reply: a timeout
        try:
            parse_read_response(data[:size], self.s.unit, self.s.function, count)
        except FrameError as exc:
            return FrameError(exc.reason, f"a bad reply: {exc.message}")
        return None

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()
