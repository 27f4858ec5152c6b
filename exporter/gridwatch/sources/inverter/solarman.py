"""Modbus RTU inside Solarman V5 frames to a Wi-Fi logger stick (TCP 8899): our own client.

pysolarmanv5's async client treats every ``read(1024)`` of the socket as one whole frame: a
reply that arrives in the same TCP segment as a heartbeat or the stray ``AT+…`` text some
sticks print, or split over two segments, fails its check and is dropped, so the poll times
out with no word of why. Here the stream is cut on frame boundaries (``solarman_frame.cut``),
one request is in flight, the reply is matched on its sequence byte (a late reply to an
earlier request is skipped), and each quirk of PROTOCOLS-2.md §3.2 gets its own message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter import solarman_frame as v5
from gridwatch.sources.inverter.rtu import (
    READ_HOLDING,
    FrameError,
    crc_ok,
    parse_read_response,
    read_request,
    response_length,
)
from gridwatch.sources.inverter.transport import ModbusExceptionError


@dataclass(frozen=True, slots=True)
class SolarmanSettings:
    host: str
    logger_serial: int
    port: int = 8899
    unit: int = 1
    function: int = READ_HOLDING
    timeout: float = 5.0
    connect_timeout: float = 10.0


def strip_double_crc(rtu: bytes) -> bytes:
    """Some Deye firmwares send the Modbus CRC twice (or ``00 00`` after it): keep one."""
    size = response_length(rtu)
    if size is not None and len(rtu) == size + 2 and crc_ok(rtu[:size]):
        return rtu[:size]
    return rtu


class SolarmanTransport:
    def __init__(self, settings: SolarmanSettings) -> None:
        self.s = settings
        self.requests = 0
        self._sequence = random.randrange(256)  # as the sticks' own apps do
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._buffer = bytearray()
        self._seen: list[str] = []  # what came instead of the reply (for the timeout message)

    def describe(self) -> str:
        return f"Solarman V5 logger {self.s.logger_serial} at {self.s.host}:{self.s.port}"

    async def _connected(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.s.host, self.s.port), self.s.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                await self.close()
                detail = str(exc) or "timed out"
                raise SourceError(
                    "connection", f"cannot connect to {self.describe()}: {detail}"
                ) from None
            self._reader, self._writer = reader, writer
            self._buffer.clear()
            return reader, writer
        return self._reader, self._writer

    async def read(self, start: int, count: int) -> list[int]:
        reader, writer = await self._connected()
        self._sequence = (self._sequence + 1) & 0xFF
        sequence = self._sequence
        self.requests += 1
        try:
            writer.write(v5.request(sequence, self.s.logger_serial, self._rtu(start, count)))
            await writer.drain()
            frame = await asyncio.wait_for(self._reply(reader, sequence, start), self.s.timeout)
        except TimeoutError:
            await self.close()  # start clean: a reply still on its way must not confuse the next
            raise SourceError("timeout", self._silence(start)) from None
        except (OSError, EOFError) as exc:
            await self.close()
            raise SourceError(
                "disconnected", f"{self.describe()} closed the connection mid-request: {exc}"
            ) from None
        return self._registers(frame, start, count)

    def _rtu(self, start: int, count: int) -> bytes:
        return read_request(self.s.unit, start, count, self.s.function)

    async def _reply(self, reader: asyncio.StreamReader, sequence: int, start: int) -> v5.V5Frame:
        self._seen = []
        while True:
            frames, skipped = v5.cut(self._buffer)
            if skipped:
                self._seen.append(f"{skipped} stray bytes")
            for frame in frames:
                if frame.control == v5.HEARTBEAT:
                    self._seen.append("a heartbeat")
                elif frame.control != v5.RESPONSE:
                    self._seen.append(f"a frame with control code {frame.control:#06x}")
                elif frame.request_sequence != sequence:
                    self._seen.append("a late reply to an earlier request")
                else:
                    return frame
            data = await reader.read(4096)
            if not data:
                raise EOFError("end of stream")
            self._buffer += data

    def _silence(self, start: int) -> str:
        seen = self._seen
        got = f" (it sent {', '.join(dict.fromkeys(seen))} instead)" if seen else ""
        return (
            f"no reply from {self.describe()} to a read at {start} within {self.s.timeout:g} s"
            f"{got}; check the logger serial (on the stick's label, not the inverter's)"
        )

    def _registers(self, frame: v5.V5Frame, start: int, count: int) -> list[int]:
        rtu = frame.modbus()
        if len(rtu) < 5:
            raise SourceError(
                "no_reply",
                f"{self.describe()} answered a read at {start} with a stub payload "
                f"({frame.payload.hex(' ')}): the inverter behind the stick did not answer "
                "(its RS485 link, the unit, or registers this model does not have)",
            )
        try:
            return parse_read_response(strip_double_crc(rtu), self.s.unit, self.s.function, count)
        except FrameError as exc:
            if exc.reason == "modbus_exception" and exc.code is not None:
                raise ModbusExceptionError(
                    exc.code, f"{exc.message} reading {count} at {start}"
                ) from None
            raise SourceError(
                exc.reason, f"{self.describe()} sent a bad reply: {exc.message}"
            ) from None

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
