"""Metric families for Bluetooth battery packs, from the latest fresh reading of each pack.

Only what the BMS reported becomes a series; a pack whose reading went stale has none.
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
from gridwatch.core.state import StateStore
from gridwatch.sources.bms.config import BatteriesConfig
from gridwatch.sources.bms.poller import KIND
from gridwatch.sources.bms.reading import PackReading

SRC = "reported by the pack's BMS over Bluetooth (aiobmsble)"
COULOMBS_PER_AH = 3600.0
JOULES_PER_WH = 3600.0


def _gauge(name: str, doc: str, labels: Sequence[str] = ("battery",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class BatteryFamilies:
    """Callable family builder for the collector."""

    def __init__(self, config: BatteriesConfig) -> None:
        self._config = config

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        f = _Families()
        for key, reading in sorted(store.fresh_readings(KIND, now), key=lambda kr: kr[0].device):
            if isinstance(reading, PackReading):
                f.add_reading(key.device, reading)
                f.delta_warning.add_metric([key.device], self._config.cell_delta_warning_volts)
                f.delta_critical.add_metric([key.device], self._config.cell_delta_critical_volts)
        return non_empty(f.all())


class _Families:
    def __init__(self) -> None:
        self.info = InfoMetricFamily(
            "gridwatch_battery",
            "Pack identity: aiobmsble BMS type, and model and firmware where the BMS tells them.",
            labels=["battery"],
        )
        self.voltage = _gauge("gridwatch_battery_voltage_volts", f"Pack voltage {SRC}.")
        self.current = _gauge(
            "gridwatch_battery_current_amperes",
            f"Pack current {SRC}; positive while charging, negative while discharging.",
        )
        self.charging = _gauge(
            "gridwatch_battery_charging",
            "1 while the pack charges (current above 0.05 A), else 0; from the BMS current.",
        )
        self.power = _gauge(
            "gridwatch_battery_power_watts",
            f"Pack power (voltage × current) {SRC}; positive while charging.",
        )
        self.soc = _gauge("gridwatch_battery_soc_ratio", f"State of charge, 0–1, {SRC}.")
        self.soh = _gauge("gridwatch_battery_soh_ratio", f"State of health, 0–1, {SRC}.")
        self.cycles = CounterMetricFamily(
            "gridwatch_battery_cycles", f"Charge cycles counted {SRC}.", labels=["battery"]
        )
        self.remaining = _gauge(
            "gridwatch_battery_remaining_charge_coulombs",
            f"Charge left in the pack {SRC} (÷ 3600 for Ah).",
        )
        self.design = _gauge(
            "gridwatch_battery_design_charge_coulombs",
            f"Full (design or BMS-aged) capacity of the pack {SRC} (÷ 3600 for Ah).",
        )
        self.remaining_energy = _gauge(
            "gridwatch_battery_remaining_energy_joules",
            f"Energy left: remaining charge × pack voltage, from values {SRC} (÷ 3.6e6 for kWh).",
        )
        self.runtime = _gauge(
            "gridwatch_battery_runtime_seconds",
            "Estimated time to empty at the present discharge current (remaining charge ÷ "
            "current), computed by gridwatch; absent while charging or idle.",
        )
        self.cell_count = _gauge("gridwatch_battery_cells", f"Number of cells {SRC}.")
        self.cell_voltage = _gauge(
            "gridwatch_battery_cell_voltage_volts",
            f"Voltage of each cell {SRC}; cell numbers start at 1.",
            ("battery", "cell"),
        )
        self.cell_delta = _gauge(
            "gridwatch_battery_cell_delta_volts",
            f"Spread between the highest and lowest cell voltage, from cell voltages {SRC}.",
        )
        self.lowest = _gauge(
            "gridwatch_battery_lowest_cell_number",
            f"Number (1-based) of the cell with the lowest voltage, from cell voltages {SRC}.",
        )
        self.highest = _gauge(
            "gridwatch_battery_highest_cell_number",
            f"Number (1-based) of the cell with the highest voltage, from cell voltages {SRC}.",
        )
        self.delta_warning = _gauge(
            "gridwatch_battery_cell_delta_warning_volts",
            "Configured cell-spread warning level (batteries.cell_delta_warning_volts).",
        )
        self.delta_critical = _gauge(
            "gridwatch_battery_cell_delta_critical_volts",
            "Configured cell-spread critical level (batteries.cell_delta_critical_volts).",
        )
        self.temperature = _gauge(
            "gridwatch_battery_temperature_celsius",
            f"Temperature per sensor {SRC}; type says where it sits (generic, mosfet, cell, …).",
            ("battery", "sensor", "type"),
        )
        self.charge_fet = _gauge(
            "gridwatch_battery_charge_mosfet_on", f"1 if the charge MOSFET is on, {SRC}."
        )
        self.discharge_fet = _gauge(
            "gridwatch_battery_discharge_mosfet_on", f"1 if the discharge MOSFET is on, {SRC}."
        )
        self.balancing = _gauge("gridwatch_battery_balancing", f"1 while balancing, {SRC}.")
        self.balance_current = _gauge(
            "gridwatch_battery_balance_current_amperes", f"Balancer current {SRC}."
        )
        self.heating = _gauge("gridwatch_battery_heating", f"1 while the heater is on, {SRC}.")
        self.problem = _gauge(
            "gridwatch_battery_problem",
            f"1 if the BMS flags a problem or its values are implausible, {SRC}.",
        )
        self.problem_code = _gauge(
            "gridwatch_battery_problem_code",
            f"BMS-specific problem bits (0 = none) {SRC}; JK bits are listed in docs/batteries.md.",
        )

    def all(self) -> list[Metric]:
        return list(vars(self).values())

    def add_reading(self, name: str, r: PackReading) -> None:
        self.info.add_metric([name], {"type": r.bms_type, **dict(r.info)})
        for gauge, pct in ((self.soc, r.soc_pct), (self.soh, r.soh_pct)):
            if pct is not None:
                gauge.add_metric([name], pct / 100)
        state = r.battery_state()
        values: list[tuple[GaugeMetricFamily | CounterMetricFamily, float | None]] = [
            (self.voltage, r.voltage_v),
            (self.current, r.current_a),
            (self.charging, r.charging),
            (self.power, r.power_w),
            (self.cycles, r.cycles),
            (self.remaining, _scaled(r.remaining_ah, COULOMBS_PER_AH)),
            (self.design, _scaled(r.design_ah, COULOMBS_PER_AH)),
            (self.remaining_energy, _scaled(state.remaining_wh, JOULES_PER_WH)),
            (self.runtime, r.runtime_s),
            (self.cell_count, len(r.cells_v) or None),
            (self.cell_delta, r.cell_delta_v),
            (self.lowest, r.lowest_cell),
            (self.highest, r.highest_cell),
            (self.charge_fet, r.charge_mosfet),
            (self.discharge_fet, r.discharge_mosfet),
            (self.balancing, r.balancing),
            (self.balance_current, r.balance_current_a),
            (self.heating, r.heater),
            (self.problem, r.problem),
            (self.problem_code, r.problem_code),
        ]
        for family, value in values:
            if value is not None:
                family.add_metric([name], float(value))
        for number, volts in enumerate(r.cells_v, start=1):
            self.cell_voltage.add_metric([name, str(number)], volts)
        for t in r.temperatures:
            self.temperature.add_metric([name, t.sensor, t.kind], t.celsius)


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor
