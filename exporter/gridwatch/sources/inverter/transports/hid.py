"""A Voltronic inverter on its USB port, a HID device (``/dev/hidraw*``).

Commands go out as 8-byte HID reports (the last one padded with 0x00), a short pause apart as
the field's practice has it; the reply comes back in 8-byte reports and is read until its CR,
the padding after it dropped.
"""

from __future__ import annotations

import asyncio
import os

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.transports.link import FdLink

REPORT = 8


def reports(request: bytes) -> list[bytes]:
    """The request cut into 8-byte reports, the last padded with 0x00."""
    return [request[i : i + REPORT].ljust(REPORT, b"\x00") for i in range(0, len(request), REPORT)]


class HidLink(FdLink):
    strip_nul = True

    def __init__(self, device: str, timeout: float = 5.0, chunk_pause: float = 0.05) -> None:
        super().__init__(device, timeout)
        self.chunk_pause = chunk_pause

    def describe(self) -> str:
        return f"USB HID {self.device}"

    def _open_fd(self) -> int:
        try:
            return os.open(self.device, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as exc:
            hint = ""
            if exc.errno == 13:
                hint = " (permission: add a udev rule or run as a user in the plugdev group)"
            elif exc.errno == 2:
                hint = " (is the inverter's USB cable plugged in?)"
            raise SourceError(
                "connection", f"cannot open {self.device}: {exc.strerror}{hint}"
            ) from None

    async def _send(self, fd: int, request: bytes) -> None:
        for i, report in enumerate(reports(request)):
            if i:
                await asyncio.sleep(self.chunk_pause)
            os.write(fd, report)
