"""P1 payload shapes: v1 ↔ v2 field mapping (PROTOCOLS.md §2.4), fixtures and DSMR telegrams."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["P1Fixture", "dsmr_telegram", "load_fixture", "v1_to_v2", "v2_to_v1"]

_V1_TO_V2: dict[str, str] = {
    "smr_version": "protocol_version",
    "active_tariff": "tariff",
    "total_power_import_kwh": "energy_import_kwh",
    "total_power_export_kwh": "energy_export_kwh",
    "active_power_w": "power_w",
    "active_voltage_v": "voltage_v",
    "active_current_a": "current_a",
    "active_frequency_hz": "frequency_hz",
    "active_power_average_w": "average_power_15m_w",
    "montly_power_peak_w": "monthly_power_peak_w",  # the v1 misspelling is the real field name
    "montly_power_peak_timestamp": "monthly_power_peak_timestamp",
}
for _n in range(1, 5):
    _V1_TO_V2[f"total_power_import_t{_n}_kwh"] = f"energy_import_t{_n}_kwh"
    _V1_TO_V2[f"total_power_export_t{_n}_kwh"] = f"energy_export_t{_n}_kwh"
for _n in range(1, 4):
    _V1_TO_V2[f"active_power_l{_n}_w"] = f"power_l{_n}_w"
    _V1_TO_V2[f"active_voltage_l{_n}_v"] = f"voltage_l{_n}_v"
    _V1_TO_V2[f"active_current_l{_n}_a"] = f"current_l{_n}_a"
_V2_TO_V1 = {v2: v1 for v1, v2 in _V1_TO_V2.items()}
_V1_ONLY = frozenset(
    {"wifi_ssid", "wifi_strength", "total_gas_m3", "gas_timestamp", "gas_unique_id"}
)
_V1_MARKERS = ("active_", "total_power_", "smr_version", "montly_", "wifi_")
_P1_MARKERS = ("power_w", "energy_import", "total_power_import", "active_power_w", "power_l1_w")


def iso_to_v1(value: str) -> int:
    """``2024-06-04T10:11:22`` → ``240604101122`` (v1 timestamps are YYMMDDhhmmss numbers)."""
    return int(dt.datetime.fromisoformat(value).strftime("%y%m%d%H%M%S"))


def v1_to_iso(value: int | float | str) -> str:
    stamp = dt.datetime.strptime(f"{int(value):012d}", "%y%m%d%H%M%S")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


def _external(entries: list[dict[str, Any]], convert: Any) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        item = dict(entry)
        if item.get("timestamp") is not None:
            item["timestamp"] = convert(item["timestamp"])
        out.append(item)
    return out


def v2_to_v1(m: dict[str, Any], *, wifi_ssid: str, wifi_strength: int) -> dict[str, Any]:
    """Render a v2 measurement the way ``/api/v1/data`` reports it."""
    out: dict[str, Any] = {"wifi_ssid": wifi_ssid, "wifi_strength": wifi_strength}
    for key, raw in m.items():
        if raw is None or key == "timestamp":  # v1 has no measurement timestamp
            continue
        value = raw
        if key == "monthly_power_peak_timestamp":
            value = iso_to_v1(raw)
        elif key == "external":
            value = _external(raw, iso_to_v1)
            gas = next((e for e in value if e.get("type") == "gas_meter"), None)
            if gas is not None:  # legacy first-gas-meter fields, still sent by v1
                out["total_gas_m3"] = gas.get("value")
                out["gas_timestamp"] = gas.get("timestamp")
                out["gas_unique_id"] = gas.get("unique_id")
        out[_V2_TO_V1.get(key, key)] = value
    return out


def v1_to_v2(d: dict[str, Any], *, timestamp: str) -> dict[str, Any]:
    """Render a v1 ``/api/v1/data`` payload with v2 names; legacy gas and Wi-Fi fields drop out."""
    out: dict[str, Any] = {}
    for key, raw in d.items():
        if raw is None or key in _V1_ONLY:
            continue
        value = raw
        if key == "montly_power_peak_timestamp":
            value = v1_to_iso(raw)
        elif key == "external":
            value = _external(raw, v1_to_iso)
        out[_V1_TO_V2.get(key, key)] = value
        if key == "unique_id":
            out["timestamp"] = timestamp
    out.setdefault("timestamp", timestamp)
    return out


@dataclass(frozen=True)
class P1Fixture:
    """A recorded payload in both API shapes; v2 ``timestamp`` is refreshed by the server."""

    v1: dict[str, Any]
    v2: dict[str, Any]


def load_fixture(path: Path) -> P1Fixture:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not any(k.startswith(_P1_MARKERS) for k in raw):
        raise ValueError(f"{path} is not a P1 /api/v1/data or /api/measurement payload")
    data = {k: v for k, v in raw.items() if v is not None}  # the real API omits nulls
    if any(k.startswith(_V1_MARKERS) for k in data):
        return P1Fixture(v1=data, v2=v1_to_v2(data, timestamp="2000-01-01T00:00:00"))
    return P1Fixture(v1=v2_to_v1(data, wifi_ssid="gridwatch-sim", wifi_strength=84), v2=data)


# -- DSMR 5 telegram ------------------------------------------------------------------------------

_EXTERNAL_DEVICE_TYPES = {
    "gas_meter": 3,
    "heat_meter": 4,
    "warm_water_meter": 6,
    "water_meter": 7,
    "inlet_heat_meter": 12,
}


def _crc16(data: bytes) -> int:
    """CRC16/ARC (poly 0xA001 reflected, init 0), as DSMR 5 uses over ``/`` … ``!``."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _dsmr_time(iso: str, tz: ZoneInfo) -> str:
    local = dt.datetime.fromisoformat(iso).replace(tzinfo=tz)
    return local.strftime("%y%m%d%H%M%S") + ("S" if local.dst() else "W")


def _header(model: str) -> str:
    # Real headers look like "/ISK5\2M550T-1011": 3-letter maker code, baud digit, type id.
    if "\\" in model:  # already a header-style id, e.g. "ELL5\253833635_A"
        return f"/{model}"
    letters = re.sub(r"[^A-Za-z]", "", model).upper()[:3] or "XXX"
    words = model.split()
    return f"/{letters}5\\{words[-1] if words else 'METER'}"


def dsmr_telegram(m: dict[str, Any], tz: ZoneInfo) -> str:
    """A DSMR 5 telegram carrying the values of the v2 measurement ``m`` (CRLF, CRC16)."""
    now = m.get("timestamp") or dt.datetime.now(tz).strftime("%Y-%m-%dT%H:%M:%S")
    lines = [_header(str(m.get("meter_model", "HomeWizard"))), ""]
    if "protocol_version" in m:
        lines.append(f"1-3:0.2.8({int(m['protocol_version'])})")
    lines.append(f"0-0:1.0.0({_dsmr_time(now, tz)})")
    if "unique_id" in m:
        lines.append(f"0-0:96.1.1({m['unique_id']})")
    for direction, obis in (("import", 1), ("export", 2)):
        for t in range(1, 5):
            value = m.get(f"energy_{direction}_t{t}_kwh")
            if value is not None:
                lines.append(f"1-0:{obis}.8.{t}({float(value):010.3f}*kWh)")
    if "tariff" in m:
        lines.append(f"0-0:96.14.0({int(m['tariff']):04d})")
    power = float(m.get("power_w", 0))
    lines.append(f"1-0:1.7.0({max(power, 0) / 1000:06.3f}*kW)")
    lines.append(f"1-0:2.7.0({max(-power, 0) / 1000:06.3f}*kW)")
    if "average_power_15m_w" in m:  # Belgian capacity-tariff registers
        lines.append(f"1-0:1.4.0({float(m['average_power_15m_w']) / 1000:06.3f}*kW)")
    if "monthly_power_peak_w" in m and "monthly_power_peak_timestamp" in m:
        peak_at = _dsmr_time(m["monthly_power_peak_timestamp"], tz)
        lines.append(f"1-0:1.6.0({peak_at})({float(m['monthly_power_peak_w']) / 1000:06.3f}*kW)")
    for key, obis_code in (
        ("any_power_fail_count", "96.7.21"),
        ("long_power_fail_count", "96.7.9"),
    ):
        if key in m:
            lines.append(f"0-0:{obis_code}({int(m[key]):05d})")
    lines.append("1-0:99.97.0(0)(0-0:96.7.19)")
    phases = ((1, 32, 31, 21), (2, 52, 51, 41), (3, 72, 71, 61))
    for kind, sub in (("sag", 32), ("swell", 36)):
        for n, volt_obis, _, _ in phases:
            if f"voltage_{kind}_l{n}_count" in m:
                lines.append(f"1-0:{volt_obis}.{sub}.0({int(m[f'voltage_{kind}_l{n}_count']):05d})")
    lines.append("0-0:96.13.0()")
    for n, volt_obis, _, _ in phases:
        if f"voltage_l{n}_v" in m:
            lines.append(f"1-0:{volt_obis}.7.0({float(m[f'voltage_l{n}_v']):05.1f}*V)")
    for n, _, amp_obis, _ in phases:
        if f"current_l{n}_a" in m:  # the meter sends whole, unsigned amps
            lines.append(f"1-0:{amp_obis}.7.0({round(abs(float(m[f'current_l{n}_a']))):03d}*A)")
    for offset in (0, 1):  # per-phase import (21/41/61), then export (22/42/62)
        for n, _, _, pow_obis in phases:
            if f"power_l{n}_w" in m:
                p = float(m[f"power_l{n}_w"]) * (1 if offset == 0 else -1)
                lines.append(f"1-0:{pow_obis + offset}.7.0({max(p, 0) / 1000:06.3f}*kW)")
    for channel, ext in enumerate(m.get("external", []), start=1):
        code = _EXTERNAL_DEVICE_TYPES.get(str(ext.get("type")), 3)
        lines.append(f"0-{channel}:24.1.0({code:03d})")
        lines.append(f"0-{channel}:96.1.0({ext.get('unique_id', '')})")
        stamp = _dsmr_time(ext["timestamp"], tz) if ext.get("timestamp") else "000101000000W"
        value = float(ext.get("value", 0))
        lines.append(f"0-{channel}:24.2.1({stamp})({value:09.3f}*{ext.get('unit', 'm3')})")
    body = "\r\n".join(lines) + "\r\n!"
    return f"{body}{_crc16(body.encode('ascii', 'replace')):04X}\r\n"
