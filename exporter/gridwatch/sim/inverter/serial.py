"""The simulated inverter on a serial line: a pseudo-terminal pair stands in for the RS232 cable.

gridwatch opens the pty's device path (``/dev/pts/N``) exactly as it opens ``/dev/ttyUSB0``, so
pymodbus' serial client, pyserial and the RTU framing run for real; the simulator answers on the
other end with the device's RTU replies. Baud rate and parity have no effect on a pty.
"""

from __future__ import annotations

from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.pty import PtyPeer
from gridwatch.sources.inverter.rtu import crc_ok

_REQUEST = 8  # unit, function, start(2), count(2), CRC(2)


class SerialInverterSimulator(PtyPeer):
    def __init__(self, device: InverterDevice) -> None:
        super().__init__()
        self.device = device
        self.corrupt_crc = False
        self.silent = False

    def _received(self) -> None:
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
            self._write(reply)
