"""Metric families for HomeWizard kWh meters, Energy Sockets, Watermeters and Plug-In Batteries.

One family per quantity with a ``device`` label (the configured name); what a device does not
send has no series::

    gridwatch_hw_device_info{device="ev",product_type="HWE-KWH3",kind="kwh_meter",api="v2"} 1
    gridwatch_hw_device_power_watts{device="ev"} 7100.3
    gridwatch_hw_device_phase_current_amperes{device="ev",phase="l2"} 15.5
    gridwatch_hw_device_energy_joules_total{device="ev",direction="import"} 1.058e10
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
from gridwatch.sources.homewizard.config import HomeWizardDevice
from gridwatch.sources.homewizard.device_reading import DeviceReading
from gridwatch.sources.homewizard.device_source import DEVICE_KIND

JOULES_PER_KWH = 3.6e6
SRC = "from the HomeWizard device"


def _g(name: str, doc: str, *extra: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=["device", *extra])


def _c(name: str, doc: str, *extra: str) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=["device", *extra])


class DeviceFamilies:
    """Callable family builder for the collector."""

    def __init__(self, devices: Sequence[HomeWizardDevice]) -> None:
        self._devices = list(devices)

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        f = _Families()
        for device in self._devices:
            reading = store.fresh(SourceKey(DEVICE_KIND, device.name), now)
            if isinstance(reading, DeviceReading):
                f.add(device, reading)
        return non_empty(f.all())


class _Families:
    def __init__(self) -> None:
        p = "gridwatch_hw_device"
        self.info = InfoMetricFamily(
            p,
            f"Identity {SRC}: product type, kind, API and the configured label.",
            labels=["device"],
        )
        self.power = _g(f"{p}_power_watts", f"Active power {SRC}; negative while exporting.")
        self.voltage = _g(f"{p}_voltage_volts", f"Voltage of a 1-phase device {SRC}.")
        self.current = _g(f"{p}_current_amperes", f"Current {SRC} (3-phase: sum over phases).")
        self.apparent = _g(f"{p}_apparent_power_voltamperes", f"Apparent power {SRC}.")
        self.reactive = _g(f"{p}_reactive_power_voltamperes_reactive", f"Reactive power {SRC}.")
        self.pf = _g(f"{p}_power_factor_ratio", f"Power factor {SRC}.")
        self.frequency = _g(f"{p}_frequency_hertz", f"Grid frequency {SRC}.")
        self.currents = _g(
            f"{p}_current_component_amperes",
            f"Apparent or reactive current {SRC}; phase is empty for the total.",
            "component",
            "phase",
        )
        self.phase_power = _g(f"{p}_phase_power_watts", f"Active power per phase {SRC}.", "phase")
        self.phase_voltage = _g(f"{p}_phase_voltage_volts", f"Voltage per phase {SRC}.", "phase")
        self.phase_current = _g(
            f"{p}_phase_current_amperes",
            f"Current per phase {SRC}, as the device signs it.",
            "phase",
        )
        self.phase_apparent = _g(
            f"{p}_phase_apparent_power_voltamperes", f"Apparent power per phase {SRC}.", "phase"
        )
        self.phase_reactive = _g(
            f"{p}_phase_reactive_power_voltamperes_reactive",
            f"Reactive power per phase {SRC}.",
            "phase",
        )
        self.phase_pf = _g(
            f"{p}_phase_power_factor_ratio", f"Power factor per phase {SRC}.", "phase"
        )
        self.energy = _c(
            f"{p}_energy_joules", f"Energy register {SRC} (import or export).", "direction"
        )
        self.water_flow = _g(
            f"{p}_water_flow_cubic_meters_per_second", f"Water flow {SRC} (sent in L/min)."
        )
        self.water = _c(f"{p}_water_volume_cubic_meters", f"Water meter total {SRC}.")
        self.soc = _g(f"{p}_battery_state_of_charge_ratio", f"Plug-In Battery charge {SRC}.")
        self.cycles = _c(f"{p}_battery_cycles", f"Plug-In Battery full cycles {SRC}.")
        self.power_on = _g(f"{p}_switch_on", f"1 when the Energy Socket's relay is on {SRC}.")
        self.switch_lock = _g(
            f"{p}_switch_locked", f"1 when the Energy Socket is locked on (switch_lock) {SRC}."
        )
        self.wifi = _g(f"{p}_wifi_strength_ratio", f"Wi-Fi signal strength {SRC}.")

    def all(self) -> list[Metric]:
        return list(vars(self).values())

    def add(self, device: HomeWizardDevice, r: DeviceReading) -> None:
        name = device.name
        info = {"product_type": r.product_type, "kind": r.kind, "api": r.api}
        if device.label:
            info["label"] = device.label
        self.info.add_metric([name], info)
        for family, value in (
            (self.power, r.power_w),
            (self.voltage, r.voltage_v),
            (self.current, r.current_a),
            (self.apparent, r.apparent_power_va),
            (self.reactive, r.reactive_power_var),
            (self.pf, r.power_factor),
            (self.frequency, r.frequency_hz),
            (self.water_flow, None if r.water_flow_lpm is None else r.water_flow_lpm / 60000),
            (self.water, r.water_total_m3),
            (self.soc, None if r.state_of_charge_pct is None else r.state_of_charge_pct / 100),
            (self.cycles, r.cycles),
            (self.power_on, r.power_on),
            (self.switch_lock, r.switch_lock),
            (self.wifi, None if r.wifi_strength_pct is None else r.wifi_strength_pct / 100),
        ):
            if value is not None:
                family.add_metric([name], float(value))
        for direction, kwh in (("import", r.energy_import_kwh), ("export", r.energy_export_kwh)):
            if kwh is not None:
                self.energy.add_metric([name, direction], kwh * JOULES_PER_KWH)
        for phase, v in r.phases.items():
            for family, value in (
                (self.phase_power, v.power_w),
                (self.phase_voltage, v.voltage_v),
                (self.phase_current, v.current_a),
                (self.phase_apparent, v.apparent_power_va),
                (self.phase_reactive, v.reactive_power_var),
                (self.phase_pf, v.power_factor),
            ):
                if value is not None:
                    family.add_metric([name, phase], value)
        for key, amps in sorted(r.currents.items()):
            component, _, rest = key.partition("_current")
            phase = rest.strip("_").removesuffix("a").strip("_")
            self.currents.add_metric([name, component, phase], amps)
