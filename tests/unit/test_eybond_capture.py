"""The real Eybond dongle capture, decoded by gridwatch's frame code and the 11K register map.

The project keeps a copy of the needed frames (tests/fixtures/easun); the full capture in
../shared is decoded too when present.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gridwatch.sources.inverter import eybond_frame
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import decode_register, load_shipped
from gridwatch.sources.inverter.rtu import crc_ok, parse_read_response, read_request
from tests.helpers import PROJECT_FIXTURES, shared_fixture_files, shared_or_skip

OWN = PROJECT_FIXTURES / "easun" / "dongle_capture_pairs.csv"
SHARED = shared_fixture_files("easun", "vgsolar2_easunpy_extracted_requests_responses.csv")


def pairs(path: Path) -> list[tuple[bytes, bytes]]:
    with path.open(encoding="utf-8") as f:
        rows = [(r["Type"], bytes.fromhex(r["Payload"])) for r in csv.DictReader(f)]
    assert [t for t, _ in rows] == ["Request", "Response"] * (len(rows) // 2)
    return [(rows[i][1], rows[i + 1][1]) for i in range(0, len(rows), 2)]


def registers(path: Path) -> dict[int, int]:
    """Every register the capture's responses carry, decoded with gridwatch's checks."""
    words: dict[int, int] = {}
    for request, response in pairs(path):
        req = eybond_frame.decode(request)
        rsp = eybond_frame.decode(response)
        assert req.is_forward and rsp.is_forward
        assert rsp.tid == req.tid and rsp.device_code == 0x0001
        unit, function = req.payload[0], req.payload[1]
        start = int.from_bytes(req.payload[2:4], "big")
        count = int.from_bytes(req.payload[4:6], "big")
        # gridwatch builds the very same request bytes for this read
        assert eybond_frame.encode(req.tid, read_request(unit, start, count, function)) == request
        values = parse_read_response(rsp.payload, unit, function, count)
        words.update(zip(range(start, start + count), values, strict=True))
    return words


def reading_from(words: dict[int, int]) -> InverterReading:
    regmap = load_shipped("smg_ii_11k")
    covered = [r for r in regmap.registers if all(r.address + i in words for i in range(r.width))]
    return InverterReading(0.0, "smg_ii_11k", tuple(decode_register(r, words) for r in covered))


@pytest.mark.parametrize("path", [OWN, *shared_or_skip(SHARED)])
def test_capture_decodes_to_the_documented_values(path: Path) -> None:
    reading = reading_from(registers(path))
    assert reading.number("battery_voltage") == 52.1
    assert reading.number("battery_current") == -9.8  # negative: discharging
    assert reading.number("battery_power") == -510
    assert reading.number("battery_soc") == 66
    assert reading.number("mains_voltage") == 239.9
    assert reading.number("mains_power") == 0
    assert reading.number("mains_frequency") == 50.01
    assert reading.number("output_power") == 399
    assert reading.number("output_apparent_power") == 483
    mode = reading.first("operating_mode")
    assert mode is not None and mode.state == "off_grid"
    assert reading.serial_number == "92B32408100363"
    # Mode 3 (off-grid) while 239.9 V are on the input: mains present but unused → grid up.
    assert reading.mains_present(170, 45, 65) is True
    battery = reading.battery_state()
    assert battery is not None
    assert battery.soc_ratio == 0.66 and battery.power_watts == -510
    assert battery.load_watts == 399


@pytest.mark.parametrize("path", shared_or_skip(SHARED))
def test_every_frame_of_the_full_capture_checks(path: Path) -> None:
    all_pairs = pairs(path)
    assert len(all_pairs) == 23
    for request, response in all_pairs:
        assert crc_ok(eybond_frame.decode(request).payload)
        assert crc_ok(eybond_frame.decode(response).payload)
    words = registers(path)
    assert words[607] == 5000 and words[203] == 5001
    assert [words[a] for a in range(696, 702)] == [2024, 12, 20, 13, 46, 57]


def test_vendor_document_example_frames() -> None:
    lines = (PROJECT_FIXTURES / "easun" / "smg_rs232_example.txt").read_text().splitlines()
    request, reply = (bytes.fromhex(line) for line in lines)
    assert read_request(1, 202, 3) == request
    words = dict(zip(range(202, 205), parse_read_response(reply, 1, 3, 3), strict=True))
    regmap = load_shipped("smg_ii")
    values = {
        r.name: decode_register(r, words).value for r in regmap.registers if r.address in words
    }
    assert values == {"mains_voltage": 230.0, "mains_frequency": 50.0, "mains_power": 1200}
