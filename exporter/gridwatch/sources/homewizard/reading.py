"""One P1 meter measurement, the same shape whether it came from API v1, v2 or the WebSocket."""

from __future__ import annotations

from dataclasses import dataclass, field

PHASES = ("l1", "l2", "l3")


@dataclass(frozen=True, slots=True)
class PhaseValues:
    power_w: float | None = None
    voltage_v: float | None = None
    # Signed like the power: negative while exporting (some meters send it unsigned; we fix that).
    current_a: float | None = None
    voltage_sags: float | None = None
    voltage_swells: float | None = None


@dataclass(frozen=True, slots=True)
class ExternalMeter:
    unique_id: str
    type: str  # gas_meter, water_meter, heat_meter, … ; new types appear over time
    value: float
    unit: str
    timestamp: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    product_type: str | None = None
    product_name: str | None = None
    serial: str | None = None
    firmware_version: str | None = None
    api_version: str | None = None


@dataclass(frozen=True, slots=True)
class P1Reading:
    received_at: float  # wall-clock time gridwatch got it
    api: str  # "v1" or "v2"
    transport: str  # "poll" or "push"
    meter_model: str | None = None
    unique_id: str | None = None
    protocol_version: int | None = None
    meter_timestamp: float | None = None  # when the meter sent the telegram (v2 only)
    tariff: int | None = None
    power_w: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None
    frequency_hz: float | None = None
    phases: dict[str, PhaseValues] = field(default_factory=dict)
    energy_import_kwh: float | None = None
    energy_export_kwh: float | None = None
    import_tariffs_kwh: dict[int, float] = field(default_factory=dict)
    export_tariffs_kwh: dict[int, float] = field(default_factory=dict)
    any_power_fail_count: float | None = None
    long_power_fail_count: float | None = None
    average_power_15m_w: float | None = None
    monthly_power_peak_w: float | None = None
    monthly_power_peak_timestamp: float | None = None
    wifi_strength_pct: float | None = None
    external: tuple[ExternalMeter, ...] = ()

    def abs_currents(self) -> dict[str, float]:
        """|I| per phase for the phases that reported a current."""
        return {
            phase: abs(values.current_a)
            for phase, values in self.phases.items()
            if values.current_a is not None
        }
