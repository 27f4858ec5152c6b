"""Device payloads through python-homewizard-energy's models: bad input is a clear error."""

from __future__ import annotations

import pytest

from gridwatch.sources.homewizard.device_parse import parse_batteries, parse_device_measurement
from gridwatch.sources.homewizard.parse import PayloadError


def parse(payload: object, api: str = "v1", product: str = "HWE-KWH1", **kw: object):  # type: ignore[no-untyped-def]
    return parse_device_measurement(payload, api=api, product_type=product, received_at=1.0, **kw)


def test_v1_without_wifi_ssid_is_still_read_as_v1() -> None:
    # The library tells v1 by wifi_ssid; we tell it the API we asked.
    r = parse({"active_power_w": 12.5, "total_power_import_kwh": 3.0})
    assert (r.power_w, r.energy_import_kwh) == (12.5, 3.0)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"active_power_w": "12"}, "power_w"),
        ({"active_voltage_v": float("nan")}, "voltage_v"),
        ({"active_apparent_current_a": "x"}, "active_apparent_current_a"),
    ],
)
def test_a_wrong_type_names_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(PayloadError, match=field):
        parse(payload)


def test_not_an_object_and_unknown_product() -> None:
    with pytest.raises(PayloadError, match="JSON object"):
        parse([1, 2])
    with pytest.raises(PayloadError, match="HWE-P1"):
        parse({}, product="HWE-P1")


def test_socket_state_and_absent_fields() -> None:
    r = parse({"active_power_w": 0}, product="HWE-SKT", state={"power_on": False})
    assert r.power_on is False and r.switch_lock is None
    assert r.voltage_v is None and r.energy_import_kwh is None  # absent, never a zero
    with pytest.raises(PayloadError, match="power_on"):
        parse({}, product="HWE-SKT", state={"power_on": "off"})


def test_battery_group_permissions_refine_zero_mode() -> None:
    group = parse_batteries(
        {
            "mode": "zero",
            "permissions": ["charge_allowed"],
            "power_w": 0,
            "target_power_w": 0,
            "max_consumption_w": 800,
            "max_production_w": 800,
        }
    )
    assert group.mode == "zero_charge_only" and group.permissions == ("charge_allowed",)
    with pytest.raises(PayloadError, match="power_w"):
        parse_batteries({"mode": "zero", "power_w": "a lot"})


def test_a_battery_mode_newer_than_the_library_still_shows() -> None:
    numbers = {"power_w": 0, "target_power_w": 0, "max_consumption_w": 0, "max_production_w": 0}
    # The library's model maps a mode it does not know to None; the firmware's word is kept.
    assert parse_batteries({"mode": "self_consumption", **numbers}).mode == "self_consumption"
    with pytest.raises(PayloadError, match="mode"):
        parse_batteries({"mode": 3, **numbers})


def test_charge_to_full_is_read_beside_the_library_model() -> None:
    numbers = {"power_w": 0, "target_power_w": 0, "max_consumption_w": 0, "max_production_w": 0}
    assert parse_batteries({"mode": "zero", "charge_to_full": True, **numbers}).charge_to_full
    assert parse_batteries({"mode": "zero", **numbers}).charge_to_full is None
    with pytest.raises(PayloadError, match="charge_to_full"):
        parse_batteries({"mode": "zero", "charge_to_full": "yes", **numbers})
