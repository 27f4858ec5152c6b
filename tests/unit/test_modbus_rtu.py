"""Modbus RTU frame building and checking (the Eybond path's own frame code)."""

from __future__ import annotations

import pytest

from gridwatch.sources.inverter.rtu import (
    FrameError,
    crc16,
    crc_ok,
    parse_read_response,
    read_request,
    response_length,
)

GOOD = bytes.fromhex("01030608fc138804b0f7f3")  # vendor example: 230.0 V, 50.00 Hz, 1200 W


def test_crc_check_value_is_low_byte_first() -> None:
    assert crc16(bytes.fromhex("010300000001")) == bytes.fromhex("840a")


def test_vendor_write_example_checks_only_with_its_byte_count() -> None:
    assert crc_ok(bytes.fromhex("011001400001020898be3a"))
    assert not crc_ok(bytes.fromhex("0110014000010898be3a"))
    assert crc_ok(bytes.fromhex("01100140000101e1"))


def test_good_reply_decodes() -> None:
    assert parse_read_response(GOOD, 1, 3, 3) == [2300, 5000, 1200]
    assert response_length(GOOD[:3]) == len(GOOD)


@pytest.mark.parametrize(
    ("frame", "unit", "function", "count", "reason", "text"),
    [
        (GOOD[:-1] + b"\x00", 1, 3, 3, "crc", "CRC"),
        (GOOD, 2, 3, 3, "protocol", "unit 1, expected 2"),
        (GOOD, 1, 4, 3, "protocol", "function 0x03, expected 0x04"),
        (GOOD, 1, 3, 2, "protocol", "expected 4 for 2 registers"),
        (b"\x01\x03", 1, 3, 1, "protocol", "too short"),
    ],
)
def test_bad_replies_fail_with_a_reason(  # noqa: PLR0917
    frame: bytes, unit: int, function: int, count: int, reason: str, text: str
) -> None:
    with pytest.raises(FrameError) as err:
        parse_read_response(frame, unit, function, count)
    assert err.value.reason == reason
    assert text in err.value.message


def test_unit_ff_accepts_the_inverters_own_address() -> None:
    assert parse_read_response(GOOD, 0xFF, 3, 3) == [2300, 5000, 1200]


def test_exception_reply_names_the_vendor_meaning() -> None:
    body = bytes((1, 0x83, 7))
    with pytest.raises(FrameError) as err:
        parse_read_response(body + crc16(body), 1, 3, 3)
    assert err.value.reason == "modbus_exception" and err.value.code == 7
    assert "not allowed in the current working mode" in err.value.message
    assert response_length(body) == 5


def test_read_request_limits_the_count() -> None:
    assert read_request(1, 201, 34) == bytes.fromhex("010300c9002215ed")  # eamoon's 4K/6K group
    with pytest.raises(ValueError, match=r"outside 1\.\.125"):
        read_request(1, 0, 126)
