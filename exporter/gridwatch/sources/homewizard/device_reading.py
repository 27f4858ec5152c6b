"""One reading of a HomeWizard device other than the P1 meter: kWh meter, socket, water, battery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DeviceKind = Literal["kwh_meter", "socket", "watermeter", "battery"]

KIND_OF_PRODUCT: dict[str, DeviceKind] = {
    "HWE-KWH1": "kwh_meter",
    "HWE-KWH3": "kwh_meter",
    "SDM230-wifi": "kwh_meter",
    "SDM630-wifi": "kwh_meter",
    "HWE-SKT": "socket",
    "HWE-WTR": "watermeter",
    "HWE-BAT": "battery",
}


@dataclass(frozen=True, slots=True)
class DevicePhase:
    power_w: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None  # negative while exporting (v2)
    apparent_power_va: float | None = None
    reactive_power_var: float | None = None
    power_factor: float | None = None


@dataclass(frozen=True, slots=True)
class BatteryGroup:
    """The Plug-In Batteries a P1 or kWh meter controls (``GET /api/batteries``)."""

    mode: str | None = None  # zero, to_full, standby, predictive, zero_charge_only, …
    permissions: tuple[str, ...] | None = None  # charge_allowed, discharge_allowed
    charge_to_full: bool | None = None  # API 2.3.0: charge to 100 % once, then the mode again
    battery_count: int | None = None
    power_w: float | None = None
    target_power_w: float | None = None
    max_consumption_w: float | None = None
    max_production_w: float | None = None


@dataclass(frozen=True, slots=True)
class BatteriesReading:
    """A P1 meter's ``GET /api/batteries`` on its own (a kWh meter's rides on its DeviceReading)."""

    received_at: float
    group: BatteryGroup


@dataclass(frozen=True, slots=True)
class DeviceReading:
    received_at: float
    api: str  # "v1" or "v2"
    product_type: str
    kind: DeviceKind
    power_w: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    apparent_power_va: float | None = None
    reactive_power_var: float | None = None
    power_factor: float | None = None
    frequency_hz: float | None = None
    phases: dict[str, DevicePhase] = field(default_factory=dict)
    # apparent_current_a, reactive_current_l2_a, … (v2 names) as the device sends them
    currents: dict[str, float] = field(default_factory=dict)
    energy_import_kwh: float | None = None
    energy_export_kwh: float | None = None
    water_flow_lpm: float | None = None
    water_total_m3: float | None = None
    state_of_charge_pct: float | None = None
    cycles: int | None = None
    wifi_strength_pct: float | None = None
    power_on: bool | None = None  # Energy Socket relay
    switch_lock: bool | None = None
    batteries: BatteryGroup | None = None
