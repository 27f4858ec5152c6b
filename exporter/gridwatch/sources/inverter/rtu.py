"""Modbus RTU frames for the Eybond dongle path: build read requests, check and decode replies.

pymodbus does this for the serial and TCP transports; the dongle wraps raw RTU frames in its own
header, so that path needs the frame handling here. Every check fails with a ``FrameError`` whose
reason is one of the source error reasons, so a bad frame becomes a clean ``source_up 0``.
"""

from __future__ import annotations

import struct

from pymodbus.framer.rtu import FramerRTU

from gridwatch.sources.inverter.protocols.voltronic import sniff

READ_HOLDING = 0x03
READ_INPUT = 0x04
EXCEPTION_BIT = 0x80
MAX_READ_COUNT = 125
ANY_UNIT = 0xFF  # Modbus limit for one read (250 data bytes)

EXCEPTION_NAMES = {
    1: "illegal function (the vendor uses it for read-only registers)",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    7: "not allowed in the current working mode",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class FrameError(Exception):
    """A frame that cannot be used; ``reason`` is a source error reason (crc, protocol, …)."""

    def __init__(self, reason: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.code = code  # the Modbus exception code for reason "modbus_exception"


def crc16(data: bytes) -> bytes:
    """CRC-16/MODBUS of ``data`` as the two bytes that follow it on the wire (low byte first)."""
    # pymodbus returns the value byte-swapped, i.e. already in wire order when written big-endian.
    return FramerRTU.compute_CRC(data).to_bytes(2, "big")


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == frame[-2:]


def read_request(unit: int, start: int, count: int, function: int = READ_HOLDING) -> bytes:
    if not 1 <= count <= MAX_READ_COUNT:
        raise ValueError(f"register count {count} outside 1..{MAX_READ_COUNT}")
    body = struct.pack(">BBHH", unit, function, start, count)
    return body + crc16(body)


def response_length(head: bytes) -> int | None:
    """Total length of an RTU read reply from its first 3 bytes (None: need more bytes)."""
    if len(head) < 3:
        return None
    if head[1] & EXCEPTION_BIT:
        return 5
    return 3 + head[2] + 2


def parse_read_response(frame: bytes, unit: int, function: int, count: int) -> list[int]:
    """The registers of a read reply, after checking CRC, unit, function, exception and length."""
    if (other := sniff(frame)) is not None:
        raise FrameError("protocol", other)  # not a CRC error: another protocol answered
    if len(frame) < 5:
        raise FrameError("protocol", f"RTU reply of {len(frame)} bytes is too short")
    if not crc_ok(frame):
        raise FrameError(
            "crc",
            f"RTU reply CRC {frame[-2:].hex()} does not match {crc16(frame[:-2]).hex()}",
        )
    # Unit 0xFF asks "whoever is on the line" (suletom's dongle frames); the inverter answers
    # with its own address.
    if unit != ANY_UNIT and frame[0] != unit:
        raise FrameError("protocol", f"reply from unit {frame[0]}, expected {unit}")
    if frame[1] == function | EXCEPTION_BIT:
        code = frame[2]
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        raise FrameError("modbus_exception", f"Modbus exception {code}: {name}", code)
    if frame[1] != function:
        raise FrameError(
            "protocol", f"reply has function {frame[1]:#04x}, expected {function:#04x}"
        )
    byte_count = frame[2]
    if byte_count != 2 * count or len(frame) != 5 + byte_count:
        raise FrameError(
            "protocol",
            f"reply carries {byte_count} data bytes in a {len(frame)}-byte frame, "
            f"expected {2 * count} for {count} registers",
        )
    return list(struct.unpack(f">{count}H", frame[3 : 3 + byte_count]))
