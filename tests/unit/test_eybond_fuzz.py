"""Hypothesis fuzzing of the dongle and RTU frame decoders: clean errors only, never a crash."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter import eybond_frame
from gridwatch.sources.inverter.eybond import EybondSettings, EybondTransport
from gridwatch.sources.inverter.rtu import (
    FrameError,
    crc16,
    parse_read_response,
    response_length,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 255), st.sampled_from([3, 4]), st.integers(1, 125))
def test_rtu_reply_decoder_never_crashes(
    frame: bytes, unit: int, function: int, count: int
) -> None:
    try:
        values = parse_read_response(frame, unit, function, count)
    except FrameError as exc:
        assert exc.reason in {"crc", "protocol", "modbus_exception"}
    else:
        assert len(values) == count and all(0 <= v <= 0xFFFF for v in values)
    size = response_length(frame[:3])
    assert size is None or size >= 5


@FUZZ
@given(st.binary(min_size=0, max_size=80), st.integers(0, 255), st.integers(1, 40))
def test_rtu_decoder_with_valid_crc_still_checks_structure(
    body: bytes, unit: int, count: int
) -> None:
    frame = body + crc16(body)  # passes the CRC, so every other check has to hold
    try:
        parse_read_response(frame, unit, 3, count)
    except FrameError as exc:
        assert exc.reason in {"protocol", "modbus_exception"}


@FUZZ
@given(st.binary(max_size=300))
def test_dongle_frame_decoder_never_crashes(data: bytes) -> None:
    try:
        frame = eybond_frame.decode(data)
    except FrameError as exc:
        assert exc.reason == "protocol"
    else:
        assert len(frame.payload) == len(data) - 8


async def _next_frame(data: bytes) -> None:
    transport = EybondTransport(EybondSettings(dongle_host="127.0.0.1"))
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    try:
        frame = await transport._next_forward_frame(reader)
    except SourceError as exc:
        assert exc.reason in {"protocol", "disconnected"}
    else:
        assert frame.is_forward


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.builds(
                eybond_frame.encode,
                st.integers(0, 0xFFFF),
                st.binary(max_size=40),
            ),
        ),
        max_size=5,
    )
)
def test_dongle_stream_reader_never_crashes(chunks: list[bytes]) -> None:
    """The transport's real stream reader over arbitrary bytes, then end of stream."""
    asyncio.run(_next_frame(b"".join(chunks)))
