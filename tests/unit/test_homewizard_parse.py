"""Parsing every HomeWizard payload shape: real captures, library fixtures and our own."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridwatch.sources.homewizard.parse import PayloadError, parse_device_info, parse_measurement
from tests.helpers import PROJECT_FIXTURES, load_json, shared_fixture_files, shared_or_skip

OWN = sorted((PROJECT_FIXTURES / "homewizard").glob("*.json"))
SHARED_V1 = shared_fixture_files("homewizard", "*_v1_*.json")
SHARED_V2 = shared_fixture_files("homewizard", "pyhwe_v2_HWE-P1_measurement_*.json")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def api_of(path: Path) -> str:
    return "v2" if "v2_" in path.name else "v1"


def parse(path: Path):  # type: ignore[no-untyped-def]
    return parse_measurement(load_json(path), api=api_of(path), received_at=1.0, tz=STOCKHOLM)


@pytest.mark.parametrize("path", OWN, ids=lambda p: p.name)
def test_own_fixtures_parse(path: Path) -> None:
    reading = parse(path)
    assert reading.power_w is not None
    assert reading.phases


@pytest.mark.parametrize("path", shared_or_skip(SHARED_V1 + SHARED_V2), ids=str)
def test_shared_captures_parse_and_keep_only_present_fields(path: Path) -> None:
    data = load_json(path)
    reading = parse(path)
    # Every phase whose power the meter sent is there, and no phase it did not send.
    power_key = "power_{}_w" if api_of(path) == "v2" else "active_power_{}_w"
    sent = {p for p in ("l1", "l2", "l3") if data.get(power_key.format(p)) is not None}
    with_power = {p for p, v in reading.phases.items() if v.power_w is not None}
    assert with_power == sent


def shared(name: str) -> Path:
    path = next((p for p in SHARED_V1 + SHARED_V2 if p.name == name), None)
    if path is None:
        pytest.skip("../shared/fixtures not present")
    return path


def test_swedish_capture_has_no_tariff_counters_or_failures() -> None:
    r = parse(shared("real_v1_HWE-P1_Sweden_ELL5_3phase_single_tariff.json"))
    assert r.tariff is None and r.protocol_version is None and r.unique_id is None
    assert r.any_power_fail_count is None and r.long_power_fail_count is None
    assert all(v.voltage_sags is None and v.voltage_swells is None for v in r.phases.values())
    assert r.import_tariffs_kwh == {1: 11033.43}
    assert r.energy_import_kwh == 11033.43
    assert r.phases["l2"].current_a == 2.9 and r.phases["l2"].voltage_v == 235.7
    assert r.frequency_hz is None


def test_kaifa_unsigned_currents_take_the_sign_of_power() -> None:
    r = parse(shared("real_v1_HWE-P1_Kaifa_3tariff_3phase_export.json"))
    assert r.phases["l1"].current_a == -20
    assert r.phases["l3"].current_a == -15.4
    assert r.import_tariffs_kwh[3] == 12493.189
    assert r.energy_export_kwh == 21057.65


def test_sagemcom_old_firmware_totals_from_tariffs_and_nulls_ignored() -> None:
    r = parse(shared("real_v1_HWE-P1_NL_SagemcomT210D_3phase_oldfw.json"))
    assert r.energy_import_kwh == pytest.approx(11502.736 + 6565.789)
    assert r.energy_export_kwh == pytest.approx(3597.031 + 8176.792)
    assert all(v.voltage_v is None and v.current_a is None for v in r.phases.values())
    assert r.external == ()


def test_landis_gyr_signed_currents_and_counters() -> None:
    r = parse(shared("real_v1_HWE-P1_LandisGyr_3phase_gas_NL_evcc.json"))
    assert r.phases["l1"].current_a == -0.092
    assert r.current_a == 1.091
    assert r.phases["l1"].voltage_swells == 5055
    assert r.tariff == 2
    assert [(e.type, e.unit, e.value) for e in r.external] == [("gas_meter", "m3", 5175.363)]


def test_own_v1_full_payload() -> None:
    r = parse(PROJECT_FIXTURES / "homewizard" / "v1_3phase_import_export.json")
    assert r.api == "v1" and r.protocol_version == 50 and r.tariff == 1
    assert r.power_w == -1250 and r.frequency_hz == 50.012
    assert r.phases["l1"].current_a == -8.894
    assert r.average_power_15m_w == 812 and r.monthly_power_peak_w == 5321
    # YYMMDDhhmmss in the site's time zone: 2026-11-03 17:45:00 CET = 16:45:00 UTC
    assert r.monthly_power_peak_timestamp == 1793724300.0
    assert r.wifi_strength_pct == 64
    assert r.meter_timestamp is None  # v1 has no measurement timestamp
    assert {e.type for e in r.external} == {"gas_meter", "heat_meter"}


def test_own_v2_payload_timestamps_are_site_local() -> None:
    r = parse(PROJECT_FIXTURES / "homewizard" / "v2_3phase_measurement.json")
    # 2026-07-01T12:00:00 in Stockholm (CEST, UTC+2) = 10:00 UTC
    assert r.meter_timestamp == 1782900000.0
    assert r.energy_import_kwh == 8123.456 and r.import_tariffs_kwh == {1: 5000.0, 2: 3123.456}


def test_invalid_tariff_is_dropped() -> None:
    r = parse(PROJECT_FIXTURES / "homewizard" / "v1_unsigned_export.json")
    assert r.tariff is None
    assert {v.current_a for v in r.phases.values()} == {-10}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "expected a JSON object"),
        ("text", "expected a JSON object"),
        ({"active_power_w": "12"}, "'power_w' should be a number"),
        ({"active_power_l1_w": True}, "'power_l1_w' should be a number"),
        ({"meter_model": 5}, "'meter_model' should be a string"),
        ({"active_power_w": float("nan")}, "not a finite number"),
        ({"external": {"a": 1}}, "'external' should be a list"),
    ],
)
def test_malformed_payloads_raise_payload_error(payload: object, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_measurement(payload, api="v1", received_at=0)


def test_odd_external_entries_are_skipped_not_fatal() -> None:
    r = parse_measurement(
        {
            "active_power_w": 1,
            "external": [
                1,
                {"type": "gas_meter"},
                {"type": "x", "unit": "m3", "value": 2, "timestamp": "garbage"},
            ],
        },
        api="v1",
        received_at=0,
    )
    assert [(e.type, e.value, e.timestamp) for e in r.external] == [("x", 2.0, None)]


def test_device_info() -> None:
    folder = shared("pyhwe_v2_HWE-P1_measurement_1phase_no_gas.json").parent
    info = parse_device_info(load_json(folder / "pyhwe_v2_HWE-P1_device.json"))
    assert (info.serial, info.api_version, info.product_type) == ("5c2fafaabbcc", "2.0.0", "HWE-P1")
    with pytest.raises(PayloadError):
        parse_device_info({"serial": 12})
