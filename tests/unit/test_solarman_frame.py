"""The Solarman V5 frame decoder: real frames from the issues, and Hypothesis over streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridwatch.sources.inverter import solarman_frame as v5
from gridwatch.sources.inverter.rtu import crc16
from gridwatch.sources.inverter.solarman import strip_double_crc
from tests.helpers import load_json, shared_fixture_files, shared_or_skip

FRAMES = shared_fixture_files("inverter-deye", "deye_solarman-v5_frames_from_issues_decoded.json")


def _entries(path: Path) -> list[dict[str, Any]]:
    return [e for e in load_json(path) if isinstance(e, dict) and "hex" in e]


@pytest.mark.parametrize("path", shared_or_skip(FRAMES))
def test_every_real_frame_cuts_as_its_sidecar_says(path: Path) -> None:
    checked = 0
    for entry in _entries(path):
        raw = bytes.fromhex(entry["hex"])
        buffer = bytearray(raw)
        frames, _skipped = v5.cut(buffer)
        good = entry.get("start_ok") and entry.get("end_ok") and entry.get("v5_checksum_ok")
        if not good or not entry.get("payload_len_matches", True):
            assert not frames, entry.get("note")
            continue
        assert len(frames) == 1, entry.get("note")
        frame = frames[0]
        assert frame.control == int(entry["control_code"], 16)
        assert frame.serial == entry["logger_serial"]
        if entry.get("modbus_rtu") and frame.control == v5.RESPONSE:
            assert frame.modbus() == bytes.fromhex(entry["modbus_rtu"])
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", shared_or_skip(FRAMES))
def test_real_frames_in_one_stream_with_the_at_text(path: Path) -> None:
    good = [
        bytes.fromhex(e["hex"])
        for e in _entries(path)
        if e.get("v5_checksum_ok") and e.get("end_ok") and e.get("payload_len_matches", True)
    ]
    stream = bytearray(b"AT+YZCMPVER=MW3_16U_5406_2.32-D1\r\n\r\n".join(good))
    frames, skipped = v5.cut(stream)
    assert len(frames) == len(good)
    assert skipped == 36 * (len(good) - 1)


_frames = st.builds(
    v5.encode,
    st.sampled_from([v5.REQUEST, v5.RESPONSE, v5.HEARTBEAT, 0x4210]),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=64),
)
_junk = st.binary(max_size=20).filter(lambda b: 0xA5 not in b)


@given(st.lists(st.tuples(_junk, _frames), max_size=6), _junk)
def test_frames_between_junk_all_come_out_in_order(
    parts: list[tuple[bytes, bytes]], tail: bytes
) -> None:
    stream = bytearray(b"".join(j + f for j, f in parts) + tail)
    frames, skipped = v5.cut(stream)
    assert [v5.encode(f.control, f.sequence, f.serial, f.payload) for f in frames] == [
        f for _, f in parts
    ]
    assert skipped == sum(len(j) for j, _ in parts) + len(tail)
    assert not stream


@given(st.binary(max_size=300), st.integers(1, 50))
def test_any_bytes_in_any_chunks_never_raise_and_never_grow(data: bytes, step: int) -> None:
    buffer = bytearray()
    for at in range(0, len(data), step):
        buffer += data[at : at + step]
        frames, _ = v5.cut(buffer)
        for frame in frames:
            assert len(frame.payload) <= v5.MAX_PAYLOAD
        assert len(buffer) <= v5.HEADER + v5.MAX_PAYLOAD + 2


@given(_frames, st.integers(1, 40))
def test_a_frame_split_anywhere_is_cut_once_complete(frame: bytes, at: int) -> None:
    buffer = bytearray(frame[:at])
    first, _ = v5.cut(buffer)
    buffer += frame[at:]
    second, _ = v5.cut(buffer)
    assert len(first) + len(second) == 1


@given(st.binary(min_size=1, max_size=20))
def test_double_crc_is_stripped_only_when_the_first_is_good(data: bytes) -> None:
    body = bytes((1, 3, len(data))) + data
    good = body + crc16(body)
    assert strip_double_crc(good + crc16(body)) == good
    assert strip_double_crc(good + b"\x00\x00") == good
    assert strip_double_crc(good) == good
    bad = body + bytes(b ^ 0xFF for b in crc16(body))
    assert strip_double_crc(bad + b"\x00\x00") == bad + b"\x00\x00"
