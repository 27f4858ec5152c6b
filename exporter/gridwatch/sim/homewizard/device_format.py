"""Payloads of the HomeWizard devices other than the P1 meter (PROTOCOLS-2.md §4): v1 ↔ v2 names
and a small synthetic model per product, driven by the simulator's clock."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["PRODUCTS", "synthetic_v2", "v1_to_v2", "v2_to_v1"]

# product_type → (product_name, certificate type, API v1?, API v2?)
PRODUCTS: dict[str, tuple[str, str, bool, bool]] = {
    "HWE-KWH1": ("kWh meter", "energymeter", True, True),
    "HWE-KWH3": ("kWh meter 3-phase", "energymeter", True, True),
    "SDM230-wifi": ("kWh meter", "energymeter", True, True),
    "SDM630-wifi": ("kWh meter 3-phase", "energymeter", True, True),
    "HWE-SKT": ("Energy Socket", "energysocket", True, False),
    "HWE-WTR": ("Watermeter", "watermeter", True, False),
    "HWE-BAT": ("Plug-In Battery", "battery", False, True),
}

_SAME = ("active_liter_lpm", "total_liter_m3", "total_liter_offset_m3", "wifi_ssid")


def v2_to_v1(m: dict[str, Any], *, wifi_strength: int = 84) -> dict[str, Any]:
    """A v2 measurement as ``/api/v1/data`` reports it (``active_…``, ``total_power_…``)."""
    out: dict[str, Any] = {"wifi_ssid": "gridwatch-sim", "wifi_strength": wifi_strength}
    for key, value in m.items():
        if key in _SAME:
            out[key] = value
        elif key.startswith("energy_"):
            direction = key.split("_")[1]
            out[f"total_power_{direction}_kwh"] = value
            out[f"total_power_{direction}_t1_kwh"] = value  # v1 repeats the total as t1
        elif key not in ("timestamp", "state_of_charge_pct", "cycles"):
            out[f"active_{key}"] = value
    return out


def v1_to_v2(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if value is None or key.startswith("wifi_") or "_t1_" in key:
            continue
        if key in _SAME:
            out[key] = value
        elif key.startswith("total_power_"):
            out[f"energy_{key.split('_')[2]}_kwh"] = value
        elif key.startswith("active_") and key != "active_power_l1_w":
            out[key.removeprefix("active_")] = value
    return out


def synthetic_v2(
    product: str, t: float, *, on: bool = True, energy_kwh: float = 0.0
) -> dict[str, Any]:
    """One measurement at Unix time ``t``: an EV charger on a kWh meter, a heater on a socket, a
    tap running now and then on the watermeter, a battery cycling through the day."""
    wave = 0.5 + 0.5 * math.sin(2 * math.pi * t / 3600)
    if product in ("HWE-KWH3", "SDM630-wifi"):
        phase_w = 3680 * wave
        m: dict[str, Any] = {"energy_import_kwh": round(energy_kwh, 3), "energy_export_kwh": 0.0}
        m["power_w"] = round(3 * phase_w, 1)
        m["current_a"] = round(3 * phase_w / 230, 3)
        for n, volts in ((1, 230.4), (2, 229.1), (3, 231.2)):
            m[f"power_l{n}_w"] = round(phase_w, 1)
            m[f"voltage_l{n}_v"] = volts
            m[f"current_l{n}_a"] = round(phase_w / volts, 3)
            m[f"power_factor_l{n}"] = 0.99
        m["frequency_hz"] = 50.0
        return m
    if product == "HWE-WTR":
        flowing = wave > 0.8
        return {"active_liter_lpm": 8.5 if flowing else 0.0, "total_liter_m3": round(energy_kwh, 4)}
    power = {"HWE-SKT": 1800 * wave if on else 0.0, "HWE-BAT": -800 + 1600 * wave}.get(
        product, 2000 * wave
    )
    m = {
        "energy_import_kwh": round(energy_kwh, 3),
        "energy_export_kwh": 0.0,
        "power_w": round(power, 1),
        "voltage_v": 230.2,
        "current_a": round(abs(power) / 230.2, 3),
        "frequency_hz": 50.0,
    }
    if product == "HWE-BAT":
        m["state_of_charge_pct"] = round(20 + 70 * wave, 1)
        m["cycles"] = 123
    elif product != "HWE-SKT":
        m["power_factor"] = 0.97
        m["apparent_power_va"] = round(abs(power) / 0.97, 1)
    return m


def power_of(m: dict[str, Any]) -> float:
    value = m.get("power_w", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0
