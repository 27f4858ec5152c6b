"""A simulated Voltronic unit on a pseudo-terminal: its RS232 port, or a stand-in for its USB HID.

gridwatch opens the pty's path as it opens ``/dev/ttyUSB0`` or ``/dev/hidraw0``. On the serial
line requests end at their CR. In ``hid`` mode the simulator expects what a hidraw device gets:
8-byte reports, the last padded with 0x00 (a request that is not so padded is ignored, as the
real USB firmware drops it), and it answers in 8-byte reports padded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from gridwatch.sim.inverter.voltronic import VoltronicDevice

REPORT = 8


class AsciiLineSimulator:
    def __init__(self, device: VoltronicDevice, *, hid: bool = False) -> None:
        self.device = device
        self.hid = hid
        self.path = ""
        self.delay = 0.0  # seconds before each reply
        self.unpadded = 0  # HID requests that were not whole reports (must stay 0)
        self._master: int | None = None
        self._slave: int | None = None
        self._buffer = bytearray()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        os.set_blocking(master, False)
        asyncio.get_running_loop().add_reader(master, self._readable)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    async def __aenter__(self) -> AsciiLineSimulator:
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
        while (end := self._buffer.find(b"\r")) >= 0:
            request = bytes(self._buffer[: end + 1])
            if self.hid:
                whole = -(-(end + 1) // REPORT) * REPORT
                if len(self._buffer) < whole:
                    return  # the rest of the last report has not arrived yet
                padding = bytes(self._buffer[end + 1 : whole])
                del self._buffer[:whole]
                if padding.strip(b"\x00"):
                    self.unpadded += 1
                    continue
            else:
                del self._buffer[: end + 1]
            reply = self.device.answer(request.lstrip(b"\x00"))
            if reply is not None:
                self._send_later(reply)

    def _send_later(self, reply: bytes) -> None:
        if self.hid:
            whole = -(-len(reply) // REPORT) * REPORT
            reply = reply.ljust(whole, b"\x00")
        task = asyncio.get_running_loop().create_task(self._send(reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, reply: bytes) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.write(self._master, reply)
