"""The Eybond / SmartESS dongle frame: a 6-byte header, ``FF 04`` and a complete RTU frame.

``TID(2) | device code(2, 0x0001) | LEN(2) | FF | 04 | RTU frame with CRC`` where LEN counts the
bytes after the header. The dongle may also send its own frames (heartbeats, datalogger function
other than 04); ``decode`` returns them so the transport can skip them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gridwatch.sources.inverter.rtu import FrameError

HEADER = struct.Struct(">HHH")
HEADER_SIZE = HEADER.size
DEVICE_CODE = 0x0001
DATALOGGER_UNIT = 0xFF
FORWARD = 0x04  # datalogger function "forward to the serial device"
MAX_BODY = 2 + 255  # FF 04 + the longest RTU frame


@dataclass(frozen=True, slots=True)
class DongleFrame:
    tid: int
    device_code: int
    dongle_unit: int
    dongle_function: int
    payload: bytes  # the RTU frame for function 04

    @property
    def is_forward(self) -> bool:
        return self.dongle_unit == DATALOGGER_UNIT and self.dongle_function == FORWARD


def encode(tid: int, rtu: bytes, device_code: int = DEVICE_CODE) -> bytes:
    body = bytes((DATALOGGER_UNIT, FORWARD)) + rtu
    return HEADER.pack(tid & 0xFFFF, device_code, len(body)) + body


def body_length(header: bytes) -> int:
    """Bytes that follow a 6-byte header; a length no dongle sends means the stream is lost."""
    if len(header) != HEADER_SIZE:
        raise FrameError("protocol", f"dongle header of {len(header)} bytes, expected 6")
    length: int = HEADER.unpack(header)[2]
    if not 2 <= length <= MAX_BODY:
        raise FrameError("protocol", f"dongle frame announces {length} bytes after the header")
    return length


def decode(frame: bytes) -> DongleFrame:
    """One complete frame (header + body) from the dongle."""
    length = body_length(frame[:HEADER_SIZE])
    if len(frame) != HEADER_SIZE + length:
        raise FrameError(
            "protocol", f"dongle frame of {len(frame)} bytes, header says {HEADER_SIZE + length}"
        )
    tid, code, _ = HEADER.unpack(frame[:HEADER_SIZE])
    return DongleFrame(tid, code, frame[6], frame[7], bytes(frame[8:]))
