"""Voltronic ASCII through the Eybond / SmartESS dongle: the command rides in the ``FF 04`` frame
where a Modbus unit would get its RTU frame (dongle firmwares for Voltronic units do this). The
connection handling (UDP wake-up, connect-back, reuse, idle re-handshake) is the Modbus path's.
"""

from __future__ import annotations

from gridwatch.core.source import SourceError
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
        payload = (await self._round_trip(request, command)).payload
        end = payload.find(b"\r")
        if end < 0:
            raise SourceError("protocol", f"dongle reply to {command} has no CR: {payload[:24]!r}")
        return payload[: end + 1]
