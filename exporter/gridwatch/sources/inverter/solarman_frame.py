"""Solarman V5 frames (the Wi-Fi logger sticks of Deye and others): build requests, cut replies.

A V5 frame is ``A5``, payload length (LE), control code (LE), sequence (2 bytes), the stick's
serial (uint32 LE), the payload, a one-byte sum of everything after ``A5`` and ``15``. The
Modbus RTU frame rides in the payload. The stream from a stick also carries heartbeats, stray
``AT+…`` text and replies to earlier requests (PROTOCOLS-2.md §3.2): ``cut`` finds frame
boundaries in a buffer so none of that can shift the frames after it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

START, END = 0xA5, 0x15
REQUEST = 0x4510
RESPONSE = 0x1510
HEARTBEAT = 0x4710
HEADER = 11  # start, length, control, sequence, serial
MAX_PAYLOAD = 1024  # far above any reply (a 125-register read is 14 + 255 bytes)
_RESPONSE_PAYLOAD_HEAD = 14  # frame type, status, three uint32 times


@dataclass(frozen=True, slots=True)
class V5Frame:
    control: int
    sequence: int  # byte 0: the client's; byte 1: the logger's own counter
    serial: int
    payload: bytes

    @property
    def request_sequence(self) -> int:
        return self.sequence & 0xFF

    def modbus(self) -> bytes:
        """The inner Modbus RTU frame of a response ("" for a payload too short to hold one)."""
        return self.payload[_RESPONSE_PAYLOAD_HEAD:]


def checksum(body: bytes) -> int:
    return sum(body) & 0xFF


def encode(control: int, sequence: int, serial: int, payload: bytes) -> bytes:
    body = struct.pack("<HHHI", len(payload), control, sequence, serial) + payload
    return bytes((START,)) + body + bytes((checksum(body), END))


def request(sequence: int, serial: int, rtu: bytes) -> bytes:
    """A client-mode request: frame type 2 (inverter), sensor type 0, three zero times."""
    return encode(REQUEST, sequence & 0xFF, serial, b"\x02\x00\x00" + bytes(12) + rtu)


def response(
    sequence: int, serial: int, rtu: bytes, times: tuple[int, int, int] = (0, 0, 0)
) -> bytes:
    """What a logger sends back: frame type 2, status 1 (real-time), its times, the RTU reply."""
    return encode(RESPONSE, sequence, serial, b"\x02\x01" + struct.pack("<III", *times) + rtu)


def cut(buffer: bytearray) -> tuple[list[V5Frame], int]:
    """Take every complete frame from the front of ``buffer``; returns them and bytes skipped.

    Bytes that cannot start a frame (stray text, a frame with a bad sum or end byte) are dropped
    one ``A5`` at a time: a bad frame never eats a good one after it.
    """
    frames: list[V5Frame] = []
    skipped = 0
    while True:
        at = buffer.find(START)
        if at < 0:
            skipped += len(buffer)
            buffer.clear()
            return frames, skipped
        if at:
            skipped += at
            del buffer[:at]
        if len(buffer) < HEADER:
            return frames, skipped
        length, control, sequence, serial = struct.unpack_from("<HHHI", buffer, 1)
        total = HEADER + length + 2
        if length > MAX_PAYLOAD:
            del buffer[:1]
            skipped += 1
            continue
        if len(buffer) < total:
            return frames, skipped
        frame = bytes(buffer[:total])
        if frame[-1] != END or frame[-2] != checksum(frame[1:-2]):
            del buffer[:1]
            skipped += 1
            continue
        del buffer[:total]
        frames.append(V5Frame(control, sequence, serial, frame[HEADER:-2]))
