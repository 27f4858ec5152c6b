"""Metric families for HomeWizard P1 meters, built from the latest fresh reading per meter.

Only what the meter sent becomes a series; an absent field is absent, never a zero.
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
from gridwatch.energy.phases import PeakTracker, imbalance, load_ratios
from gridwatch.sources.homewizard.config import HomeWizardMeter
from gridwatch.sources.homewizard.reading import P1Reading
from gridwatch.sources.homewizard.source import KIND

JOULES_PER_KWH = 3.6e6
JOULES_PER_GJ = 1e9
SRC = "from the HomeWizard P1 meter"


def _gauge(name: str, doc: str, labels: Sequence[str] = ("meter",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Sequence[str] = ("meter",)) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=list(labels))


class HomeWizardFamilies:
    """Callable family builder for the collector; also tracks per-phase peaks between scrapes."""

    def __init__(self, meters: Sequence[HomeWizardMeter], store: StateStore) -> None:
        self._meters = list(meters)
        self.peaks = PeakTracker()
        store.observe(KIND, self._observe)

    def _observe(self, key: SourceKey, reading: P1Reading) -> None:
        self.peaks.observe(key.device, reading.abs_currents())

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        f = _Families()
        for meter in self._meters:
            name = meter.name
            f.fuse.add_metric([name], meter.fuse_amperes)
            f.imbalance_warning.add_metric([name], meter.imbalance_warning_amperes)
            f.imbalance_critical.add_metric([name], meter.imbalance_critical_amperes)
            reading = store.fresh(SourceKey(KIND, name), now)
            if isinstance(reading, P1Reading):
                f.add_reading(name, reading, meter.fuse_amperes, self.peaks.take(name))
            else:
                self.peaks.forget(name)
        return non_empty(f.all())


class _Families:
    def __init__(self) -> None:
        ph = ("meter", "phase")
        self.info = InfoMetricFamily(
            "gridwatch_p1_meter",
            f"Meter identity {SRC}: model, DSMR version, API and device firmware.",
            labels=["meter"],
        )
        self.power = _gauge(
            "gridwatch_p1_power_watts", f"Net active power {SRC}; negative while exporting."
        )
        self.phase_power = _gauge(
            "gridwatch_p1_phase_power_watts",
            f"Active power per phase {SRC}; negative while exporting.",
            ph,
        )
        self.phase_voltage = _gauge(
            "gridwatch_p1_phase_voltage_volts", f"Voltage per phase {SRC}.", ph
        )
        self.phase_current = _gauge(
            "gridwatch_p1_phase_current_amperes",
            f"Current per phase {SRC}, signed like the power (negative while exporting).",
            ph,
        )
        self.voltage = _gauge("gridwatch_p1_voltage_volts", f"Voltage of a 1-phase meter {SRC}.")
        self.current = _gauge(
            "gridwatch_p1_current_amperes", f"Sum of |current| over all phases {SRC}."
        )
        self.frequency = _gauge("gridwatch_p1_frequency_hertz", f"Grid frequency {SRC}.")
        self.energy = _counter(
            "gridwatch_p1_energy_joules",
            f"Energy register {SRC} (import or export); sum of tariffs when no total is sent.",
            ("meter", "direction"),
        )
        self.tariff_energy = _counter(
            "gridwatch_p1_tariff_energy_joules",
            f"Energy register per tariff {SRC}; tariff numbering is the meter's own.",
            ("meter", "direction", "tariff"),
        )
        self.tariff = _gauge("gridwatch_p1_active_tariff", f"Tariff (1–4) in force now {SRC}.")
        self.sags = _counter("gridwatch_p1_voltage_sags", f"Voltage sags per phase {SRC}.", ph)
        self.swells = _counter(
            "gridwatch_p1_voltage_swells", f"Voltage swells per phase {SRC}.", ph
        )
        self.power_fails = _counter("gridwatch_p1_power_failures", f"Power failures {SRC}.")
        self.long_power_fails = _counter(
            "gridwatch_p1_long_power_failures", f"Long power failures {SRC}."
        )
        self.avg15 = _gauge(
            "gridwatch_p1_average_power_15m_watts",
            f"Current 15-minute average demand (capacity tariff) {SRC}.",
        )
        self.month_peak = _gauge(
            "gridwatch_p1_monthly_power_peak_watts",
            f"Highest 15-minute average demand this month {SRC}.",
        )
        self.month_peak_ts = _gauge(
            "gridwatch_p1_monthly_power_peak_timestamp_seconds",
            f"When this month's demand peak happened {SRC}.",
        )
        self.meter_ts = _gauge(
            "gridwatch_p1_measurement_timestamp_seconds",
            f"When the meter sent the measurement (API v2 only) {SRC}.",
        )
        self.wifi = _gauge("gridwatch_p1_wifi_strength_ratio", f"Wi-Fi signal strength {SRC}.")
        ext = ("meter", "type", "external_id")
        self.ext_volume = _counter(
            "gridwatch_p1_external_volume_cubic_meters",
            f"Reading of an external gas or water meter read through the P1 port {SRC}.",
            ext,
        )
        self.ext_energy = _counter(
            "gridwatch_p1_external_energy_joules",
            f"Reading of an external heat meter read through the P1 port {SRC}.",
            ext,
        )
        self.imbalance = _gauge(
            "gridwatch_p1_phase_imbalance_amperes",
            "max − min of |current| over the phases present, computed by gridwatch.",
        )
        self.load_ratio = _gauge(
            "gridwatch_p1_phase_load_ratio",
            "|current| per phase divided by the configured main fuse (1 = at the fuse rating).",
            ph,
        )
        self.peak = _gauge(
            "gridwatch_p1_phase_current_peak_amperes",
            "Highest |current| per phase among all meter updates since the previous scrape.",
            ph,
        )
        self.fuse = _gauge(
            "gridwatch_p1_fuse_amperes", "Configured main fuse rating per phase (config)."
        )
        self.imbalance_warning = _gauge(
            "gridwatch_p1_phase_imbalance_warning_amperes",
            "Configured phase-imbalance warning level (config).",
        )
        self.imbalance_critical = _gauge(
            "gridwatch_p1_phase_imbalance_critical_amperes",
            "Configured phase-imbalance critical level (config).",
        )

    def all(self) -> list[Metric]:
        return list(vars(self).values())

    def add_reading(self, meter: str, r: P1Reading, fuse: float, peaks: dict[str, float]) -> None:
        info = {"api": r.api}
        if r.meter_model:
            info["meter_model"] = r.meter_model
        if r.protocol_version is not None:
            info["protocol_version"] = str(r.protocol_version)
        self.info.add_metric([meter], info)

        for family, value in (
            (self.power, r.power_w),
            (self.voltage, r.voltage_v),
            (self.current, r.current_a),
            (self.frequency, r.frequency_hz),
            (self.tariff, r.tariff),
            (self.power_fails, r.any_power_fail_count),
            (self.long_power_fails, r.long_power_fail_count),
            (self.avg15, r.average_power_15m_w),
            (self.month_peak, r.monthly_power_peak_w),
            (self.month_peak_ts, r.monthly_power_peak_timestamp),
            (self.meter_ts, r.meter_timestamp),
            (self.wifi, None if r.wifi_strength_pct is None else r.wifi_strength_pct / 100),
        ):
            if value is not None:
                family.add_metric([meter], float(value))

        for phase, values in r.phases.items():
            for family, value in (
                (self.phase_power, values.power_w),
                (self.phase_voltage, values.voltage_v),
                (self.phase_current, values.current_a),
                (self.sags, values.voltage_sags),
                (self.swells, values.voltage_swells),
            ):
                if value is not None:
                    family.add_metric([meter, phase], value)

        for direction, total, tariffs in (
            ("import", r.energy_import_kwh, r.import_tariffs_kwh),
            ("export", r.energy_export_kwh, r.export_tariffs_kwh),
        ):
            if total is not None:
                self.energy.add_metric([meter, direction], total * JOULES_PER_KWH)
            for tariff, kwh in sorted(tariffs.items()):
                self.tariff_energy.add_metric([meter, direction, str(tariff)], kwh * JOULES_PER_KWH)

        seen: set[tuple[str, str]] = set()
        for ext in r.external:
            if (ext.type, ext.unique_id) in seen:
                continue  # the same meter twice would be a duplicate series
            seen.add((ext.type, ext.unique_id))
            labels = [meter, ext.type, ext.unique_id]
            unit = ext.unit.lower()
            if unit == "m3":
                self.ext_volume.add_metric(labels, ext.value)
            elif unit == "gj":
                self.ext_energy.add_metric(labels, ext.value * JOULES_PER_GJ)
            elif unit == "kwh":
                self.ext_energy.add_metric(labels, ext.value * JOULES_PER_KWH)

        currents = r.abs_currents()
        spread = imbalance(currents)
        if spread is not None:
            self.imbalance.add_metric([meter], spread)
        for phase, ratio in load_ratios(currents, fuse).items():
            self.load_ratio.add_metric([meter, phase], ratio)
        for phase, peak in peaks.items():
            self.peak.add_metric([meter, phase], peak)
