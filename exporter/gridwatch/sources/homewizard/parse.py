"""Turn HomeWizard P1 JSON (API v1 ``/api/v1/data`` or v2 ``/api/measurement``) into a P1Reading.

Every field is optional: a field the meter does not send (or sends as null) stays None and
produces no series. A field with the wrong type is an error, named in the message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gridwatch.sources.homewizard.reading import (
    PHASES,
    DeviceInfo,
    ExternalMeter,
    P1Reading,
    PhaseValues,
)

TARIFFS = (1, 2, 3, 4)

# v1 field name → v2 (canonical) field name; fields not listed have the same name in both.
V1_TO_V2 = {
    "smr_version": "protocol_version",
    "active_tariff": "tariff",
    "total_power_import_kwh": "energy_import_kwh",
    "total_power_export_kwh": "energy_export_kwh",
    "active_power_w": "power_w",
    "active_voltage_v": "voltage_v",
    "active_current_a": "current_a",
    "active_frequency_hz": "frequency_hz",
    "active_power_average_w": "average_power_15m_w",
    "montly_power_peak_w": "monthly_power_peak_w",  # "montly" is the API's own spelling
    "montly_power_peak_timestamp": "monthly_power_peak_timestamp",
    "wifi_strength": "wifi_strength_pct",
}
for _t in TARIFFS:
    V1_TO_V2[f"total_power_import_t{_t}_kwh"] = f"energy_import_t{_t}_kwh"
    V1_TO_V2[f"total_power_export_t{_t}_kwh"] = f"energy_export_t{_t}_kwh"
for _p in PHASES:
    V1_TO_V2[f"active_power_{_p}_w"] = f"power_{_p}_w"
    V1_TO_V2[f"active_voltage_{_p}_v"] = f"voltage_{_p}_v"
    V1_TO_V2[f"active_current_{_p}_a"] = f"current_{_p}_a"


class PayloadError(ValueError):
    """The meter sent something that is not a valid measurement."""


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"field {key!r} should be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise PayloadError(f"field {key!r} is not a finite number")
    return number


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"field {key!r} should be a string, got {type(value).__name__}")
    return value


# How far a meter's clock may run ahead of ours before a time counts as "in the future".
CLOCK_SLACK = 120.0


def _timestamp(value: object, tz: ZoneInfo, received_at: float) -> float | None:
    """v1 sends YYMMDDhhmmss as a number, v2 an ISO time without zone: both are meter-local.

    In the repeated autumn hour a local time names two instants; the meter means one that has
    already happened when the reading arrives, so the later one that is not in the future wins.
    """
    try:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            parsed = datetime.strptime(f"{int(value):012d}", "%y%m%d%H%M%S")
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value)
        else:
            return None
    except (ValueError, OverflowError):
        return None  # a garbled timestamp loses the timestamp, not the whole measurement
    if parsed.tzinfo is not None:
        return parsed.timestamp()
    first = parsed.replace(tzinfo=tz, fold=0).timestamp()
    second = parsed.replace(tzinfo=tz, fold=1).timestamp()
    if first == second:
        return first
    earlier, later = min(first, second), max(first, second)
    return later if later <= received_at + CLOCK_SLACK else earlier


def _to_canonical(data: Mapping[str, Any], api: str) -> dict[str, Any]:
    if api == "v2":
        return dict(data)
    return {V1_TO_V2.get(key, key): value for key, value in data.items()}


def _externals(
    data: Mapping[str, Any], tz: ZoneInfo, received_at: float
) -> tuple[ExternalMeter, ...]:
    meters = _listed_externals(data.get("external"), tz, received_at)
    legacy = _legacy_gas(data, tz, received_at)
    # v1's total_gas_m3 is the first gas meter's reading: only new when `external` lacks gas.
    if legacy is not None and not any(m.type == "gas_meter" for m in meters):
        meters = (legacy, *meters)
    return meters


def _legacy_gas(data: Mapping[str, Any], tz: ZoneInfo, received_at: float) -> ExternalMeter | None:
    """Older firmware (and some meters) report gas only in v1's ``total_gas_m3``."""
    value = data.get("total_gas_m3")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    unique_id = data.get("gas_unique_id")
    return ExternalMeter(
        unique_id=unique_id if isinstance(unique_id, str) else "",
        type="gas_meter",
        value=float(value),
        unit="m3",
        timestamp=_timestamp(data.get("gas_timestamp"), tz, received_at),
    )


def _listed_externals(raw: object, tz: ZoneInfo, received_at: float) -> tuple[ExternalMeter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError("field 'external' should be a list")
    meters = []
    for entry in raw:
        # External meters are secondary: skip an odd entry instead of failing the whole reading.
        if not isinstance(entry, dict):
            continue
        value, kind, unit = entry.get("value"), entry.get("type"), entry.get("unit")
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not isinstance(kind, str) or not isinstance(unit, str) or not math.isfinite(value):
            continue
        unique_id = entry.get("unique_id")
        meters.append(
            ExternalMeter(
                unique_id=unique_id if isinstance(unique_id, str) else "",
                type=kind,
                value=float(value),
                unit=unit,
                timestamp=_timestamp(entry.get("timestamp"), tz, received_at),
            )
        )
    return tuple(meters)


def _phases(data: Mapping[str, Any]) -> dict[str, PhaseValues]:
    phases = {}
    for phase in PHASES:
        power = _number(data, f"power_{phase}_w")
        voltage = _number(data, f"voltage_{phase}_v")
        current = _number(data, f"current_{phase}_a")
        sags = _number(data, f"voltage_sag_{phase}_count")
        swells = _number(data, f"voltage_swell_{phase}_count")
        if power is not None and current is not None and power * current < 0:
            # Some meters (e.g. Kaifa) send unsigned currents while exporting.
            current = math.copysign(current, power)
        values = PhaseValues(power, voltage, current, sags, swells)
        if values != PhaseValues():
            phases[phase] = values
    return phases


def _tariffs(data: Mapping[str, Any], direction: str) -> dict[int, float]:
    found = {}
    for tariff in TARIFFS:
        value = _number(data, f"energy_{direction}_t{tariff}_kwh")
        if value is not None:
            found[tariff] = value
    return found


def parse_measurement(
    payload: object,
    *,
    api: str,
    received_at: float,
    transport: str = "poll",
    tz: ZoneInfo | None = None,
) -> P1Reading:
    """Parse a v1 data or v2 measurement object; raises PayloadError on malformed input."""
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    tz = tz or ZoneInfo("UTC")
    data = _to_canonical(payload, api)

    imports, exports = _tariffs(data, "import"), _tariffs(data, "export")
    energy_import = _number(data, "energy_import_kwh")
    energy_export = _number(data, "energy_export_kwh")
    # Old firmware sends only per-tariff registers; their sum is the total register.
    if energy_import is None and imports:
        energy_import = sum(imports.values())
    if energy_export is None and exports:
        energy_export = sum(exports.values())

    tariff = _number(data, "tariff")
    protocol = _number(data, "protocol_version")
    return P1Reading(
        received_at=received_at,
        api=api,
        transport=transport,
        meter_model=_text(data, "meter_model"),
        unique_id=_text(data, "unique_id"),
        protocol_version=int(protocol) if protocol is not None else None,
        meter_timestamp=(
            _timestamp(data.get("timestamp"), tz, received_at) if api == "v2" else None
        ),
        # Some meters report tariffs outside 1–4; those are meaningless to us.
        tariff=int(tariff) if tariff in TARIFFS else None,
        power_w=_number(data, "power_w"),
        voltage_v=_number(data, "voltage_v"),
        current_a=_number(data, "current_a"),
        frequency_hz=_number(data, "frequency_hz"),
        phases=_phases(data),
        energy_import_kwh=energy_import,
        energy_export_kwh=energy_export,
        import_tariffs_kwh=imports,
        export_tariffs_kwh=exports,
        any_power_fail_count=_number(data, "any_power_fail_count"),
        long_power_fail_count=_number(data, "long_power_fail_count"),
        average_power_15m_w=_number(data, "average_power_15m_w"),
        monthly_power_peak_w=_number(data, "monthly_power_peak_w"),
        monthly_power_peak_timestamp=_timestamp(
            data.get("monthly_power_peak_timestamp"), tz, received_at
        ),
        wifi_strength_pct=_number(data, "wifi_strength_pct"),
        external=_externals(data, tz, received_at),
    )


def parse_device_info(payload: object) -> DeviceInfo:
    """Parse ``GET /api`` (both API versions)."""
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {type(payload).__name__}")
    return DeviceInfo(
        product_type=_text(payload, "product_type"),
        product_name=_text(payload, "product_name"),
        serial=_text(payload, "serial"),
        firmware_version=_text(payload, "firmware_version"),
        api_version=_text(payload, "api_version"),
    )
