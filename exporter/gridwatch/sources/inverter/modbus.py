"""Modbus RTU over serial, Modbus TCP and RTU-over-TCP through pymodbus' async clients.

pymodbus drops replies whose CRC does not match and then times out; the raw bytes it received
are watched (``trace_packet``) so such a timeout is reported as a CRC error, not as silence.
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
from gridwatch.sources.inverter.rtu import EXCEPTION_NAMES, READ_HOLDING, crc_ok, response_length
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
        self._received = bytearray()  # raw bytes since the last request (RTU framings)
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
        else:
            self._received += data
        return data

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
            if self._crc_failed():
                raise SourceError(
                    "crc", f"reply from {self.describe()} failed its CRC check"
                ) from None
            raise SourceError(
                "timeout", f"no valid reply from {self.describe()} to a read at {start}: {exc}"
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
        registers = list(reply.registers)
        if len(registers) != count:
            raise SourceError("protocol", f"asked for {count} registers, got {len(registers)}")
        return registers

    def _crc_failed(self) -> bool:
        if self.s.framing == "tcp":
            return False  # MBAP frames have no CRC
        data = bytes(self._received)
        size = response_length(data)
        return size is not None and len(data) >= size and not crc_ok(data[:size])

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()
