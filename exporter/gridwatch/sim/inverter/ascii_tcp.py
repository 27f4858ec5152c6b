"""A simulated Voltronic unit behind a transparent RS232-to-TCP bridge (Elfin EW11, USR-TCP232,
ser2net): a TCP server on 127.0.0.1 passing bytes to the unit and its replies back, adding no
framing, as such a bridge in transparent mode does.

Bridge faults for tests: a reply cut off halfway with the connection closed (the bridge's Wi-Fi
dropped), a reply held back (``delay``), line noise (bytes without a CR) instead of it, and
``disconnect()`` closing every connection between polls (the bridge rebooted). The unit's own
faults (bad CRC, NAK, silence, garbage) are the ``VoltronicDevice``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from gridwatch.sim.inverter.ascii_line import take_requests
from gridwatch.sim.inverter.voltronic import VoltronicDevice


class AsciiTcpBridgeSimulator:
    def __init__(self, device: VoltronicDevice, host: str = "127.0.0.1", port: int = 0) -> None:
        self.device = device
        self.host = host
        self.port = port
        self.delay = 0.0  # seconds before each reply
        self.drop_mid_reply = False
        self.noise = False  # line noise instead of the reply: bytes and never a CR
        self.connections = 0  # connections accepted so far
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.disconnect()
        if self._server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def disconnect(self) -> None:
        """Close every open connection, as a bridge does when it reboots or its Wi-Fi drops."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        buffer = bytearray()
        try:
            while chunk := await reader.read(512):
                buffer += chunk
                for request in take_requests(buffer):
                    reply = self.device.answer(request)
                    if reply is None:
                        continue
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    if self.noise:
                        reply = bytes(range(0x80, 0xFF)) * 5  # no CR among them
                    if self.drop_mid_reply:
                        writer.write(reply[: len(reply) // 2])
                        await writer.drain()
                        return
                    writer.write(reply)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # the test's loop ends with a reply held back (``delay``): nothing to report
        finally:
            self._writers.discard(writer)
            writer.close()
