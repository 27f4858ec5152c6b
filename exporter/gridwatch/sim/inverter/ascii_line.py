"""A simulated Voltronic unit on a pseudo-terminal: its RS232 port, or a stand-in for its USB HID.

gridwatch opens the pty's path as it opens ``/dev/ttyUSB0`` or ``/dev/hidraw0``. On the serial
line requests end at their CR. In ``hid`` mode the simulator expects what a hidraw device gets:
8-byte reports, the last padded with 0x00 (a request that is not so padded is ignored, as the
real USB firmware drops it), and it answers in 8-byte reports padded the same way.
"""

from __future__ import annotations

import asyncio

from gridwatch.sim.inverter.pty import PtyPeer
from gridwatch.sim.inverter.voltronic import VoltronicDevice

REPORT = 8


def take_requests(buffer: bytearray) -> list[bytes]:
    """The whole requests (up to and including their CR) at the start of ``buffer``, removed
    from it; a request still arriving stays. Shared by the line and the TCP bridge."""
    requests = []
    while (end := buffer.find(b"\r")) >= 0:
        requests.append(bytes(buffer[: end + 1]))
        del buffer[: end + 1]
    return requests


class AsciiLineSimulator(PtyPeer):
    def __init__(self, device: VoltronicDevice, *, hid: bool = False) -> None:
        super().__init__()
        self.device = device
        self.hid = hid
        self.delay = 0.0  # seconds before each reply
        self.unpadded = 0  # HID requests that were not whole reports (must stay 0)
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().stop()

    def _received(self) -> None:
        if not self.hid:
            for request in take_requests(self._buffer):
                self._answer(request)
            return
        while (end := self._buffer.find(b"\r")) >= 0:
            whole = -(-(end + 1) // REPORT) * REPORT
            if len(self._buffer) < whole:
                return  # the rest of the last report has not arrived yet
            request = bytes(self._buffer[: end + 1])
            padding = bytes(self._buffer[end + 1 : whole])
            del self._buffer[:whole]
            if padding.strip(b"\x00"):
                self.unpadded += 1
                continue
            self._answer(request)

    def _answer(self, request: bytes) -> None:
        reply = self.device.answer(request.lstrip(b"\x00"))
        if reply is None:
            return
        if self.hid:
            reply = reply.ljust(-(-len(reply) // REPORT) * REPORT, b"\x00")
        task = asyncio.get_running_loop().create_task(self._send(reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, reply: bytes) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self._write(reply)
