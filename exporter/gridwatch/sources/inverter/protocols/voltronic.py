"""Voltronic ASCII framing shared by PI30 and PI18: the CRC, requests, checked replies.

Request ``<command><CRC hi><CRC lo>\\r``; reply ``(fields…<CRC>\\r`` (PI30) or
``^Dnnnfields…<CRC>\\r`` (PI18). The CRC is CRC-16/XMODEM over everything before it, after which
each CRC byte equal to ``(``, CR or LF is incremented (so the CRC never looks like a frame
boundary). A reply is read up to its CR, never by a fixed length: field counts vary by model.
"""

from __future__ import annotations

import re

from gridwatch.core.source import SourceError

CR = 0x0D
# "(", CR, LF are never sent as a CRC byte; mpp-solar also bumps 0x00 (so a HID report's
# padding cannot be taken for CRC), other firmwares do not: replies are accepted either way.
_RESERVED = {0x28, 0x0D, 0x0A, 0x00}
_RESERVED_NO_NUL = {0x28, 0x0D, 0x0A}
MAX_REPLY = 512  # longest QPIRI/GS reply is ~110 bytes; more means the stream is lost
_PRINTABLE = re.compile(rb"^[\x20-\x7e]*$")


def crc(data: bytes, reserved: set[int] = _RESERVED) -> bytes:
    """The two CRC bytes that follow ``data`` on the wire."""
    value = 0
    for byte in data:
        value ^= byte << 8
        for _ in range(8):
            value = (value << 1 ^ 0x1021) if value & 0x8000 else value << 1
            value &= 0xFFFF
    high, low = value >> 8, value & 0xFF
    return bytes(b + 1 if b in reserved else b for b in (high, low))


def request(command: str) -> bytes:
    body = command.encode("ascii")
    return body + crc(body) + b"\r"


def crc_matches(body: bytes, got: bytes) -> bool:
    return got in {crc(body), crc(body, _RESERVED_NO_NUL)}


def checks(frame: bytes) -> bool:
    """Whether ``frame`` (ending in CR) carries a valid Voltronic CRC."""
    return len(frame) >= 4 and frame.endswith(b"\r") and crc_matches(frame[:-3], frame[-3:-1])


def sniff(data: bytes) -> str | None:
    """A hint when bytes received by another protocol are a Voltronic ASCII reply."""
    end = data.find(b"\r")
    if end < 3 or data[:1] not in {b"(", b"^"}:
        return None
    frame = data[: end + 1]
    if not checks(frame):
        return None
    family = "PI18" if frame.startswith(b"^") else "PI30"
    return f"the inverter answered in {family} ASCII; set protocol: {family.lower()}"


def reply_text(frame: bytes, command: str) -> str:
    """The checked text of one reply (start marker kept, CRC and CR removed).

    ``(NAK`` becomes reason ``nak``; a bad CRC ``crc``; non-printable text ``payload`` — a reply
    can pass its CRC and still be garbage (REAL: an Axpert MAX TWIN sent such bytes).
    """
    if not frame.endswith(b"\r"):
        raise SourceError("protocol", f"reply to {command} does not end in CR: {frame[:24]!r}")
    starts = [i for i in (frame.find(b"("), frame.find(b"^")) if i >= 0]
    if starts and min(starts) > 0:
        frame = frame[min(starts) :]  # line noise (a cable plugged in mid-byte) before the reply
    if len(frame) < 4:
        raise SourceError("protocol", f"reply to {command} too short: {frame!r}")
    body, got = frame[:-3], frame[-3:-1]
    if not crc_matches(body, got):
        raise SourceError(
            "crc", f"reply to {command}: CRC {got.hex()} does not match {crc(body).hex()}"
        )
    if body in {b"(NAK", b"^0"}:
        raise SourceError("nak", f"the inverter does not support {command} (answered {body!r})")
    if not _PRINTABLE.match(body):
        raise SourceError("payload", f"reply to {command} is not plain ASCII: {body[:40]!r}")
    return body.decode("ascii")
