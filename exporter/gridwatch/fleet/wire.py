"""A Prometheus remote-write request built by hand, for the tests and the ingest benchmark: the
protobuf ``WriteRequest`` (prometheus/prompb types.proto: TimeSeries → Label, Sample) and the
snappy block format, written as literals only (valid snappy that any decoder reads; no
compression, so no extra library). Sites never use this: they send with Prometheus or vmagent.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

CONTENT_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def labels(values: Mapping[str, str]) -> bytes:
    """The encoded labels of one series, sorted by name as remote write requires; reused for
    every sample of that series."""
    return b"".join(
        _field(1, _field(1, name.encode()) + _field(2, value.encode()))
        for name, value in sorted(values.items())
    )


def series(encoded_labels: bytes, samples: Iterable[tuple[int, float]]) -> bytes:
    """One TimeSeries field: ``samples`` are (timestamp in ms, value)."""
    body = encoded_labels + b"".join(
        _field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(ms))
        for ms, value in samples
    )
    return _field(1, body)


def timestamp_field(ms: int) -> bytes:
    """A Sample's timestamp field; the same for every series of one scrape."""
    return b"\x10" + _varint(ms)


def series_prefix(encoded_labels: bytes, timestamp_len: int) -> bytes:
    """Everything of a one-sample TimeSeries field before the sample's value, for series sent
    again and again (the benchmark): append ``struct.pack("<d", value)`` and a
    ``timestamp_field`` of ``timestamp_len`` bytes."""
    sample_len = 1 + 8 + timestamp_len
    body_len = len(encoded_labels) + 1 + len(_varint(sample_len)) + sample_len
    return (
        _varint(1 << 3 | 2)
        + _varint(body_len)
        + encoded_labels
        + _varint(2 << 3 | 2)
        + _varint(sample_len)
        + b"\x09"
    )


def snappy_literal(data: bytes) -> bytes:
    """``data`` as a snappy block of literal elements (each at most 64 KiB)."""
    out = bytearray(_varint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start : start + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            out.append(61 << 2)  # two bytes of length follow
            out += struct.pack("<H", n)
        out += chunk
    return bytes(out)


def write_request(encoded_series: Iterable[bytes]) -> bytes:
    """The request body: a snappy-framed WriteRequest of already encoded series."""
    return snappy_literal(b"".join(encoded_series))
