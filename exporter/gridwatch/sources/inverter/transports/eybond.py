"""Voltronic ASCII through the Eybond / SmartESS dongle: the command rides in the ``FF 04`` frame
where a Modbus unit would get its RTU frame (dongle firmwares for Voltronic units do this). The
connection handling (UDP wake-up, connect-back, reuse, idle re-handshake) is the Modbus path's.
"""

from __future__ import annotations

import asyncio
import time

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter import eybond_frame
from gridwatch.sources.inverter.eybond import EybondTransport


class EybondAsciiLink(EybondTransport):
    async def exchange(self, request: bytes, command: str) -> bytes:
        async with self._lock:
            try:
                await self._ensure_connection()
                return await self._forward(request, command)
            except SourceError as exc:
                if exc.reason not in {"crc", "nak", "payload"}:
                    self._drop()  # the stream may be out of step
                raise
            except BaseException:
                self._drop()
                raise

    async def _forward(self, request: bytes, command: str) -> bytes:
        assert self._conn is not None
        reader, writer = self._conn
        self._tid = (self._tid + 1) & 0xFFFF
        tid = self._tid
        writer.write(eybond_frame.encode(tid, request))
        self.requests += 1
        try:
            async with asyncio.timeout(self.s.timeout):
                await writer.drain()
                frame = await self._next_forward_frame(reader)
        except TimeoutError:
            raise SourceError(
                "timeout", f"no reply from the dongle within {self.s.timeout:g}s to {command}"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise SourceError("disconnected", f"dongle connection failed: {exc}") from None
        if frame.tid != tid:
            raise SourceError(
                "protocol", f"dongle reply has transaction id {frame.tid:#06x}, sent {tid:#06x}"
            )
        self._last_activity = time.monotonic()
        payload = frame.payload
        end = payload.find(b"\r")
        if end < 0:
            raise SourceError("protocol", f"dongle reply to {command} has no CR: {payload[:24]!r}")
        return payload[: end + 1]
