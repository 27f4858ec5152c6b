"""A grid meter read straight from its P1/HAN port: a serial port (USB cable) or a TCP stream
(an ESP-based reader, ser2net). Every telegram becomes a P1Reading of the same kind as the
HomeWizard meter's, so cost, capacity fee, grid state and dashboards need no change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

import serial

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceError, SourceKey
from gridwatch.sources.homewizard.config import DsmrMeter
from gridwatch.sources.homewizard.dsmr_parse import DsmrParser, Framer, TelegramError
from gridwatch.sources.homewizard.source import KIND

log = logging.getLogger(__name__)
CHUNK = 4096


class DsmrSource:
    backoff_initial = 1.0
    backoff_max = 30.0

    def __init__(self, meter: DsmrMeter, *, clock: Clock = system_clock) -> None:
        self.meter = meter
        self._clock = clock
        self.key = SourceKey(KIND, meter.name)  # the grid meter's kind, whoever reads it
        self.staleness = meter.staleness
        self._parser = DsmrParser(meter.dialect)

    async def run(self, ctx: SourceContext) -> None:
        backoff = self.backoff_initial
        while True:
            try:
                async for telegrams in self._telegrams():
                    for item in telegrams:
                        if isinstance(item, TelegramError):
                            ctx.failure(self.key, SourceError(item.reason, str(item)))
                            continue
                        try:
                            reading = self._parser.parse(item, received_at=self._clock())
                        except TelegramError as exc:
                            ctx.failure(self.key, SourceError(exc.reason, str(exc)))
                        else:
                            ctx.success(self.key, reading)
                            backoff = self.backoff_initial
            except SourceError as exc:
                ctx.failure(self.key, exc)
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self.backoff_max)

    async def _telegrams(self) -> AsyncIterator[list[str | TelegramError]]:
        framer = Framer()
        chunks = self._serial() if self.meter.serial_port is not None else self._tcp()
        async for chunk in chunks:
            # DSMR is ASCII; a stray byte (line noise) must not end the stream.
            yield list(framer.feed(chunk.decode("ascii", errors="replace")))
        raise SourceError("disconnected", "the P1 stream ended")

    async def _read(self, read: asyncio.Future[bytes] | asyncio.Task[bytes]) -> bytes:
        try:
            return await asyncio.wait_for(read, self.meter.timeout)
        except TimeoutError:
            raise SourceError("timeout", f"no data for {self.meter.timeout:g}s") from None

    async def _tcp(self) -> AsyncIterator[bytes]:
        host, port = self.meter.host, self.meter.port
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self.meter.timeout
            )
        except TimeoutError:
            raise SourceError("timeout", f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise SourceError("connection", f"{host}:{port}: {exc.strerror or exc}") from None
        try:
            while data := await self._read(asyncio.ensure_future(reader.read(CHUNK))):
                yield data
        except OSError as exc:
            raise SourceError("disconnected", f"{host}:{port}: {exc}") from None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _serial(self) -> AsyncIterator[bytes]:
        path = str(self.meter.serial_port)
        try:
            port = serial.Serial(path, self.meter.baudrate, timeout=0)
        except (serial.SerialException, OSError) as exc:
            raise SourceError("connection", f"{path}: {exc}") from None
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        loop.add_reader(port.fileno(), ready.set)
        try:
            while True:
                await self._read(asyncio.ensure_future(_wait(ready)))
                ready.clear()
                try:
                    data = port.read(CHUNK)
                except (serial.SerialException, OSError) as exc:
                    raise SourceError("disconnected", f"{path}: {exc}") from None
                if data:
                    yield data
        finally:
            loop.remove_reader(port.fileno())
            port.close()


async def _wait(event: asyncio.Event) -> bytes:
    await event.wait()
    return b""
