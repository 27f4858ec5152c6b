"""A smart meter's P1 port on loopback: DSMR telegrams over a pseudo-terminal (like a USB P1
cable) and over TCP (like an ESP-based reader or ser2net).

Telegrams carry the values of a v2 measurement (the synthetic household or a fixture) with a real
CRC16 (``p1_format.dsmr_telegram``). Tests send raw text too — a bad CRC, a truncated telegram, a
telegram in small pieces — with ``send``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import tty
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.tasks import cancel_and_wait
from gridwatch.sim.homewizard.p1_format import crc16, dsmr_telegram
from gridwatch.sim.service import LoopbackService

__all__ = ["P1PortSimulator", "with_crc"]


def with_crc(body_through_bang: str) -> str:
    """A telegram from its text up to and including ``!``, with the right CRC appended."""
    return f"{body_through_bang}{crc16(body_through_bang.encode('ascii')):04X}\r\n"


class P1PortSimulator(LoopbackService):
    def __init__(
        self,
        measurement: Callable[[dt.datetime], dict[str, Any]],
        *,
        timezone: str = "Europe/Stockholm",
        interval: float | None = None,  # seconds between telegrams; None = only what is sent
        clock: Clock = system_clock,
    ) -> None:
        self._measurement = measurement
        self._tz = ZoneInfo(timezone)
        self._interval = interval
        self._clock = clock
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._pty: tuple[int, int] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.tcp_port = 0
        self.pty_path = ""

    def telegram(self) -> str:
        now = dt.datetime.fromtimestamp(self._clock(), self._tz)
        m = dict(self._measurement(now))
        m["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%S")
        return dsmr_telegram(m, self._tz)

    @property
    def clients(self) -> int:
        return len(self._writers)

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.tcp_port)
        self.tcp_port = self._server.sockets[0].getsockname()[1]
        master, slave = os.openpty()
        tty.setraw(slave)  # bytes through unchanged: no CR/LF translation, no echo
        os.set_blocking(master, False)  # a reader that does not read must not block the demo
        self._pty = (master, slave)
        self.pty_path = os.ttyname(slave)
        if self._interval:
            self.start_ticking(self._interval)

    def start_ticking(self, interval: float) -> None:
        """Send a telegram every ``interval`` seconds, as a meter does."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(interval), name="p1-port-ticker")

    async def close(self) -> None:
        await cancel_and_wait(self._ticker)
        self._ticker = None
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._pty is not None:
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None

    async def send(self, text: str | None = None, *, pieces: int = 1) -> None:
        """Write ``text`` (default: the next telegram) to every TCP client and the pty, split
        into ``pieces`` writes with a flush between them (a telegram split across reads)."""
        data = (text if text is not None else self.telegram()).encode("ascii", "replace")
        size = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), size):
            part = data[start : start + size]
            for writer in list(self._writers):
                writer.write(part)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
            if self._pty is not None:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(self._pty[0], part)
            if pieces > 1:
                await asyncio.sleep(0.02)  # let the reader see each piece on its own

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await reader.read()  # readers never write; this returns when they hang up
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _tick(self, interval: float) -> None:
        while True:
            await self.send()
            await asyncio.sleep(interval)
