"""Metric families for inverters, built from memory on every scrape.

Each register of the inverter's map feeds the metric its ``metric:`` role names; registers the
map does not have give no series (never a zero). Operating mode, settings and status enums are
state sets (1 for the current state, 0 for the others the map names).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from gridwatch.core.families.common import non_empty
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import PHASE_ROLES, ROLE_LABEL, Decoded
from gridwatch.sources.inverter.source import KIND

JOULES_PER_KWH = 3.6e6
# Energy counters in a map's unit → joules (a unit the table lacks is taken as joules).
_JOULES_PER = {"kwh": JOULES_PER_KWH, "wh": 3600.0}
SRC = "read from the inverter"
INV = ("inverter",)

# role → (metric name, help, factor from the register's unit to the metric's base unit)
_GAUGES: dict[str, tuple[str, str, float]] = {
    "mains_voltage": ("mains_voltage_volts", "Mains (AC input) voltage", 1),
    "mains_frequency": ("mains_frequency_hertz", "Mains (AC input) frequency", 1),
    "mains_current": ("mains_current_amperes", "Mains (AC input) current", 1),
    "mains_power": ("mains_power_watts", "Power drawn from the mains", 1),
    "inverter_voltage": ("inverter_voltage_volts", "Voltage of the inverter stage", 1),
    "inverter_current": ("inverter_current_amperes", "Current of the inverter stage", 1),
    "inverter_frequency": ("inverter_frequency_hertz", "Frequency of the inverter stage", 1),
    "inverter_power": (
        "inverter_power_watts",
        "Power of the inverter stage (+ to the output, − from it)",
        1,
    ),
    "output_voltage": ("output_voltage_volts", "AC output voltage", 1),
    "output_current": ("output_current_amperes", "AC output current", 1),
    "output_frequency": ("output_frequency_hertz", "AC output frequency", 1),
    "output_power": ("output_power_watts", "AC output active power (the household load)", 1),
    "output_apparent_power": ("output_apparent_power_voltamperes", "AC output apparent power", 1),
    "output_load": ("output_load_ratio", "AC output load relative to the rated power (0–1)", 0.01),
    "battery_voltage": ("battery_voltage_volts", "Battery voltage", 1),
    "battery_current": (
        "battery_current_amperes",
        "Battery current, + charging, − discharging",
        1,
    ),
    "battery_power": (
        "battery_power_watts",
        "Battery power, + charging, − discharging (voltage × current where the map has no "
        "power register)",
        1,
    ),
    "battery_soc": ("battery_soc_ratio", "Battery state of charge (0–1)", 0.01),
    "charge_current": ("charge_current_amperes", "Battery charging current by path", 1),
    "charge_power": ("charge_power_watts", "Battery charging power by path", 1),
    "pv_voltage": ("pv_voltage_volts", "PV input voltage per string", 1),
    "pv_current": ("pv_current_amperes", "PV input current per string", 1),
    "pv_power": ("pv_power_watts", "PV input power per string", 1),
    "bus_voltage": ("bus_voltage_volts", "Internal DC bus voltage", 1),
    "temperature": ("temperature_celsius", "Temperature per sensor", 1),
    "fault_code": ("fault_code", "Current fault code (0 = none; meaning per the map)", 1),
    "rated_power": ("rated_power_watts", "Rated output power", 1),
    "grid_export_power": ("grid_export_power_watts", "Power fed into the grid (solar feed-in)", 1),
    "grid_connected": (
        "grid_connected",
        "Grid relay closed as the inverter reports it (1 on-grid, 0 off-grid)",
        1,
    ),
}


def _gauge(name: str, doc: str, labels: Sequence[str] = INV) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"gridwatch_inverter_{name}", doc, labels=list(labels))


class _Families:
    def __init__(self) -> None:
        self.gauges: dict[str, GaugeMetricFamily] = {}
        for role, (name, doc, _factor) in _GAUGES.items():
            labels = (*INV, ROLE_LABEL[role]) if role in ROLE_LABEL else INV
            self.gauges[role] = _gauge(name, f"{doc}, {SRC}.", labels)
        # Per-phase values of three-phase units under their own names (as the P1 meter's
        # p1_phase_*), so a sum over a name never adds phases to their total.
        self.phases: dict[str, GaugeMetricFamily] = {}
        for role in PHASE_ROLES:
            name, doc, _factor = _GAUGES[role]
            side, quantity = name.split("_", 1)
            self.phases[role] = _gauge(
                f"{side}_phase_{quantity}", f"{doc}, per phase, {SRC}.", (*INV, "phase")
            )
        self.pv_total = _gauge(
            "pv_total_power_watts",
            f"PV input power of all strings, {SRC} (sum of the strings when the map has no total).",
        )
        self.mode = _gauge(
            "operating_mode",
            f"Operating mode as a state set (1 = current), vendor's names, {SRC}.",
            (*INV, "mode"),
        )
        self.mode_code = _gauge(
            "operating_mode_code", f"Operating mode register as a number, {SRC}."
        )
        self.fault = _gauge(
            "fault", f"Fault flags (1 = active) from the fault bitmap, {SRC}.", (*INV, "fault")
        )
        self.warning = _gauge(
            "warning",
            f"Warning flags (1 = active) from the warning bitmap, {SRC}.",
            (*INV, "warning"),
        )
        self.status_flag = _gauge(
            "status_flag",
            f"Status flags (1 = set) the inverter reports, named by what they say, {SRC}.",
            (*INV, "flag"),
        )
        self.energy = CounterMetricFamily(
            "gridwatch_inverter_energy_joules",
            f"Energy counter kept by the inverter per flow (pv, load, …), {SRC}.",
            labels=[*INV, "flow"],
        )
        self.energy_today = _gauge(
            "energy_today_joules",
            f"Energy per flow since local midnight, as the inverter counts it (resets daily), "
            f"{SRC}.",
            (*INV, "flow"),
        )
        self.setting = _gauge(
            "setting", f"Setting register value (in the map's unit), {SRC}.", (*INV, "setting")
        )
        self.setting_state = _gauge(
            "setting_state",
            f"Enumerated setting as a state set (1 = current), {SRC}.",
            (*INV, "setting", "state"),
        )
        self.status = _gauge(
            "status",
            f"Other status registers as state sets (1 = current), {SRC}.",
            (*INV, "status", "state"),
        )
        self.info = InfoMetricFamily(
            "gridwatch_inverter",
            "Inverter identity: register map (model) and serial number when the map reads it.",
            labels=list(INV),
        )
        self.capacity = _gauge(
            "battery_capacity_watthours", "Battery capacity from the configuration."
        )

    def all(self) -> list[Metric]:
        return [
            *self.gauges.values(),
            *self.phases.values(),
            self.pv_total,
            self.mode,
            self.mode_code,
            self.fault,
            self.warning,
            self.status_flag,
            self.energy,
            self.energy_today,
            self.setting,
            self.setting_state,
            self.status,
            self.info,
            self.capacity,
        ]

    def add(self, name: str, reading: InverterReading) -> None:
        info = {"model": reading.model}
        if reading.serial_number:
            info["serial_number"] = reading.serial_number
        if (firmware := reading.first("firmware")) is not None and firmware.text:
            info["firmware"] = firmware.text
        self.info.add_metric([name], info)
        strings: list[float] = []
        has_total = False
        for d in reading.values:
            role = d.spec.metric
            if role in _GAUGES and d.value is not None:
                factor = _GAUGES[role][2]
                labels = [name, d.spec.label or ""] if role in ROLE_LABEL else [name]
                if d.spec.phase is None:
                    self.gauges[role].add_metric(labels, d.value * factor)
                else:
                    self.phases[role].add_metric([name, d.spec.phase], d.value * factor)
                if role == "pv_power":
                    strings.append(d.value)
            elif role == "pv_total_power" and d.value is not None:
                self.pv_total.add_metric([name], d.value)
                has_total = True
            elif role == "operating_mode":
                self.mode_code.add_metric([name], float(d.raw))
                self._states(self.mode, [name], d)
            elif role in {"faults", "warnings", "status_flags"}:
                flags = {"faults": self.fault, "warnings": self.warning}.get(role, self.status_flag)
                for flag, on in d.flags_set().items():
                    flags.add_metric([name, flag], 1.0 if on else 0.0)
            elif role in {"energy", "energy_today"} and d.value is not None and d.spec.label:
                joules = _JOULES_PER.get(d.spec.unit.lower(), 1.0) * d.value
                if role == "energy":
                    self.energy.add_metric([name, d.spec.label], joules)
                else:
                    self.energy_today.add_metric([name, d.spec.label], joules)
            elif role == "setting":
                if d.value is not None:
                    self.setting.add_metric([name, d.spec.name], d.value)
                if d.spec.effective_kind == "enum":
                    self._states(self.setting_state, [name, d.spec.name], d)
            elif role == "status" and d.spec.effective_kind == "enum":
                self._states(self.status, [name, d.spec.name], d)
        if not has_total and strings:
            self.pv_total.add_metric([name], sum(strings))
        if reading.first("battery_power") is None:
            # The SMX-II map has no power register; the product keeps dashboards uniform.
            volts, amps = reading.number("battery_voltage"), reading.number("battery_current")
            if volts is not None and amps is not None:
                self.gauges["battery_power"].add_metric([name], round(volts * amps, 3))

    @staticmethod
    def _states(family: GaugeMetricFamily, labels: list[str], d: Decoded) -> None:
        current = d.state
        names = dict.fromkeys([*d.spec.values.values(), current or "unknown"])
        for state in names:
            if state == "unknown" and current != "unknown":
                continue
            family.add_metric([*labels, state], 1.0 if state == current else 0.0)


class InverterFamilies:
    def __init__(self, inverters: Sequence[InverterConfig]) -> None:
        self._inverters = list(inverters)

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        f = _Families()
        for inv in self._inverters:
            if inv.battery_capacity_wh is not None:
                f.capacity.add_metric([inv.name], inv.battery_capacity_wh)
            reading = store.fresh(SourceKey(KIND, inv.name), now)
            if isinstance(reading, InverterReading):
                f.add(inv.name, reading)
        return non_empty(f.all())
