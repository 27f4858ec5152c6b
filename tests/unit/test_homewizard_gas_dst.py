"""Issue 19: gas only in v1's ``total_gas_m3``; naive times in the repeated autumn hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gridwatch.sources.homewizard.parse import parse_measurement
from tests.helpers import PROJECT_FIXTURES, load_json

BRUSSELS = ZoneInfo("Europe/Brussels")
# 2025-10-26: clocks go back 03:00 CEST → 02:00 CET; 02:20 local happens twice.
FIRST_0220 = dt.datetime(2025, 10, 26, 0, 20, 3, tzinfo=dt.UTC).timestamp()
SECOND_0220 = dt.datetime(2025, 10, 26, 1, 20, 3, tzinfo=dt.UTC).timestamp()


def fixture(name: str) -> dict[str, object]:
    data = load_json(PROJECT_FIXTURES / "homewizard" / name)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("name", "gas", "unique_id"),
    [
        ("v1_legacy_gas_empty_external.json", 1873.214, "4730303339303031"),
        ("v1_legacy_gas_no_external.json", 3021.877, ""),
    ],
)
def test_gas_only_in_total_gas_m3_is_an_external_gas_meter(
    name: str, gas: float, unique_id: str
) -> None:
    reading = parse_measurement(fixture(name), api="v1", received_at=SECOND_0220, tz=BRUSSELS)
    assert [(m.type, m.value, m.unit, m.unique_id) for m in reading.external] == [
        ("gas_meter", gas, "m3", unique_id)
    ]


def test_gas_in_external_is_not_counted_twice() -> None:
    payload = fixture("v1_legacy_gas_empty_external.json")
    payload["external"] = [
        {
            "unique_id": "4730303339303031",
            "type": "gas_meter",
            "value": 1873.214,
            "unit": "m3",
            "timestamp": 251026020500,
        }
    ]
    reading = parse_measurement(payload, api="v1", received_at=SECOND_0220, tz=BRUSSELS)
    assert [m.type for m in reading.external] == ["gas_meter"]


def test_null_legacy_gas_gives_no_meter() -> None:
    payload = fixture("v1_legacy_gas_no_external.json")
    payload["total_gas_m3"] = None
    reading = parse_measurement(payload, api="v1", received_at=SECOND_0220, tz=BRUSSELS)
    assert reading.external == ()


@pytest.mark.parametrize(
    ("arrived", "expected"), [(FIRST_0220, FIRST_0220), (SECOND_0220, SECOND_0220)]
)
def test_v2_timestamp_in_the_repeated_hour_follows_the_arrival(
    arrived: float, expected: float
) -> None:
    payload = {"power_w": 100, "timestamp": "2025-10-26T02:20:03"}
    reading = parse_measurement(payload, api="v2", received_at=arrived + 2, tz=BRUSSELS)
    assert reading.meter_timestamp == expected


def test_monthly_peak_in_the_repeated_hour_is_the_latest_past_instant() -> None:
    payload = fixture("v1_legacy_gas_empty_external.json")  # peak stamped 2025-10-26 02:20:03
    during_first = parse_measurement(payload, api="v1", received_at=FIRST_0220 + 60, tz=BRUSSELS)
    after_second = parse_measurement(payload, api="v1", received_at=SECOND_0220 + 60, tz=BRUSSELS)
    assert during_first.monthly_power_peak_timestamp == FIRST_0220
    assert after_second.monthly_power_peak_timestamp == SECOND_0220


def test_unambiguous_local_times_are_unchanged() -> None:
    payload = {"power_w": 100, "timestamp": "2025-10-26T04:20:03"}
    reading = parse_measurement(payload, api="v2", received_at=0.0, tz=BRUSSELS)
    assert reading.meter_timestamp == dt.datetime(2025, 10, 26, 3, 20, 3, tzinfo=dt.UTC).timestamp()
