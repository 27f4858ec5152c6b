"""A Voltronic inverter on its RS232 port: 2400 baud 8N1, one command at a time."""

from __future__ import annotations

import os
import termios

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.transports.link import FdLink

_BAUD = {
    1200: termios.B1200,
    2400: termios.B2400,
    4800: termios.B4800,
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
}


class SerialLink(FdLink):
    def __init__(self, device: str, baudrate: int = 2400, timeout: float = 5.0) -> None:
        super().__init__(device, timeout)
        self.baudrate = baudrate

    def describe(self) -> str:
        return f"serial {self.device} at {self.baudrate} baud"

    def _open_fd(self) -> int:
        if self.baudrate not in _BAUD:
            raise SourceError("connection", f"baud rate {self.baudrate} is not supported")
        try:
            fd = os.open(self.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            hint = " (is the USB serial adapter plugged in?)" if exc.errno == 2 else ""
            raise SourceError(
                "connection", f"cannot open {self.device}: {exc.strerror}{hint}"
            ) from None
        try:
            attrs = termios.tcgetattr(fd)
            # Raw 8N1, no flow control, no echo: the inverter's line as it is.
            attrs[0] = 0
            attrs[1] = 0
            attrs[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
            attrs[3] = 0
            attrs[4] = attrs[5] = _BAUD[self.baudrate]
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except termios.error as exc:
            os.close(fd)
            raise SourceError("connection", f"{self.device} is not a serial port: {exc}") from None
        return fd
