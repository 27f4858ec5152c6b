"""The simulated inverter on a serial line: a pseudo-terminal pair stands in for the RS232 cable.

gridwatch opens the pty's device path (``/dev/pts/N``) exactly as it opens ``/dev/ttyUSB0``, so
pymodbus' serial client, pyserial and the RTU framing run for real; the simulator answers on the
other end with the device's RTU replies. Baud rate and parity have no effect on a pty.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sources.inverter.rtu import crc_ok

_REQUEST = 8  # unit, function, start(2), count(2), CRC(2)


class SerialInverterSimulator:
    def __init__(self, device: InverterDevice) -> None:
        self.device = device
        self.path = ""
        self.corrupt_crc = False
        self.silent = False
        self._master: int | None = None
        self._slave: int | None = None
        self._buffer = bytearray()

    async def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        os.set_blocking(master, False)
        asyncio.get_running_loop().add_reader(master, self._readable)

    async def stop(self) -> None:
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    async def __aenter__(self) -> SerialInverterSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def _readable(self) -> None:
        assert self._master is not None
        try:
            self._buffer += os.read(self._master, 512)
        except (BlockingIOError, OSError):
            return
        while len(self._buffer) >= _REQUEST:
            frame = bytes(self._buffer[:_REQUEST])
            if not crc_ok(frame):
                del self._buffer[0]  # out of step: slide until a frame checks
                continue
            del self._buffer[:_REQUEST]
            reply = None if self.silent else self.device.handle_rtu(frame)
            if reply is None:
                continue
            if self.corrupt_crc:
                reply = reply[:-1] + bytes((reply[-1] ^ 0xFF,))
            with contextlib.suppress(OSError):
                os.write(self._master, reply)
