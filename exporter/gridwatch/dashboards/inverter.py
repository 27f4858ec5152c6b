"""Inverter & battery: power flow, mains, output, PV, battery, mode timeline, faults."""

from __future__ import annotations

from gridwatch.dashboards.common import (
    INSTANCE_VAR,
    INV,
    INVERTER,
    INVERTER_UID,
    KWH,
    PROBLEM,
    RED_AT_1,
    SITE_VAR,
    SOC,
    VOLTAGE,
)
from gridwatch.dashboards.model import Dashboard, Panel, Row, Target, column, mapping, sel, steps
from gridwatch.dashboards.panels import (
    count_now,
    organize,
    per_device,
    power_now,
    ratio_gauge,
    stat,
    table,
    timeline,
    timeseries,
)


def _now(metric: str) -> Target:
    return per_device(metric, INVERTER)


def _bits(title: str, description: str, metric: str, legend: str) -> Panel:
    """Every fault or warning bit of the register map over time, red while set."""
    return timeline(
        title, description, Target(sel(metric, INV), legend), mappings=PROBLEM, width=10, height=10
    )


def dashboard() -> Dashboard:
    flow = Row(
        "Power flow",
        [
            power_now(
                "Grid → inverter",
                "Power drawn from the mains input (0 without mains).",
                _now("gridwatch_inverter_mains_power_watts"),
            ),
            power_now(
                "PV → inverter",
                "Solar power of all strings.",
                _now("gridwatch_inverter_pv_total_power_watts"),
            ),
            power_now(
                "Battery (+ charging / − discharging)",
                "Battery power as the inverter measures it.",
                _now("gridwatch_inverter_battery_power_watts"),
                thresholds=steps((None, "orange"), (0, "green")),
            ),
            power_now(
                "Inverter → load",
                "Household load on the AC output.",
                _now("gridwatch_inverter_output_power_watts"),
            ),
            ratio_gauge(
                "Battery SOC",
                "State of charge reported by the inverter.",
                _now("gridwatch_inverter_battery_soc_ratio"),
                thresholds=SOC,
                height=4,
            ),
            ratio_gauge(
                "Output load",
                "Load relative to the inverter's rated power.",
                _now("gridwatch_inverter_output_load_ratio"),
                thresholds=steps((None, "green"), (0.8, "yellow"), (1, "red")),
                height=4,
            ),
            timeseries(
                "Power flow over time",
                "Mains in, PV in, battery (+ charging) and load out.",
                Target(sel("gridwatch_inverter_mains_power_watts", INV), "mains {{inverter}}"),
                Target(sel("gridwatch_inverter_pv_total_power_watts", INV), "PV {{inverter}}"),
                Target(sel("gridwatch_inverter_battery_power_watts", INV), "battery {{inverter}}"),
                Target(sel("gridwatch_inverter_output_power_watts", INV), "load {{inverter}}"),
                unit="watt",
                width=24,
            ),
        ],
    )
    ac = Row(
        "Mains and output",
        [
            timeseries(
                "Mains voltage vs 207/253 V",
                "AC input voltage (0 V = no mains) and the AC output voltage; per phase on "
                "three-phase units.",
                Target(sel("gridwatch_inverter_mains_voltage_volts", INV), "mains {{inverter}}"),
                Target(sel("gridwatch_inverter_output_voltage_volts", INV), "output {{inverter}}"),
                Target(
                    sel("gridwatch_inverter_mains_phase_voltage_volts", INV),
                    "mains {{phase}} {{inverter}}",
                ),
                Target(
                    sel("gridwatch_inverter_output_phase_voltage_volts", INV),
                    "output {{phase}} {{inverter}}",
                ),
                unit="volt",
                thresholds=VOLTAGE,
                threshold_style="dashed",
            ),
            timeseries(
                "Frequency",
                "Mains and output frequency.",
                Target(sel("gridwatch_inverter_mains_frequency_hertz", INV), "mains {{inverter}}"),
                Target(
                    sel("gridwatch_inverter_output_frequency_hertz", INV), "output {{inverter}}"
                ),
                unit="hertz",
                decimals=2,
            ),
            timeseries(
                "Output current and apparent power",
                "AC output current and apparent power (VA).",
                Target(
                    sel("gridwatch_inverter_output_current_amperes", INV), "current {{inverter}}"
                ),
                Target(
                    sel("gridwatch_inverter_output_apparent_power_voltamperes", INV),
                    "apparent {{inverter}}",
                ),
                unit="short",
            ),
            timeseries(
                "Power per phase (three-phase units)",
                "Grid power per phase (+ import, − export) and the load per phase; empty for "
                "single-phase inverters.",
                Target(
                    sel("gridwatch_inverter_mains_phase_power_watts", INV),
                    "grid {{phase}} {{inverter}}",
                ),
                Target(
                    sel("gridwatch_inverter_output_phase_power_watts", INV),
                    "load {{phase}} {{inverter}}",
                ),
                unit="watt",
            ),
            timeseries(
                "Temperatures",
                "Inverter temperature sensors.",
                Target(
                    sel("gridwatch_inverter_temperature_celsius", INV), "{{sensor}} {{inverter}}"
                ),
                unit="celsius",
            ),
        ],
    )
    dc = Row(
        "Battery and PV",
        [
            timeseries(
                "Battery voltage and current",
                "Battery voltage and current (+ charging, − discharging).",
                Target(sel("gridwatch_inverter_battery_voltage_volts", INV), "V {{inverter}}"),
                Target(sel("gridwatch_inverter_battery_current_amperes", INV), "A {{inverter}}"),
                unit="short",
            ),
            timeseries(
                "Charging by path",
                "Battery charging power from mains and from PV.",
                Target(sel("gridwatch_inverter_charge_power_watts", INV), "{{path}} {{inverter}}"),
                unit="watt",
            ),
            timeseries(
                "PV strings",
                "Power per PV string.",
                Target(
                    sel("gridwatch_inverter_pv_power_watts", INV), "string {{string}} {{inverter}}"
                ),
                unit="watt",
            ),
            timeseries(
                "PV voltage and current",
                "Voltage and current per PV string.",
                Target(sel("gridwatch_inverter_pv_voltage_volts", INV), "V string {{string}}"),
                Target(sel("gridwatch_inverter_pv_current_amperes", INV), "A string {{string}}"),
                unit="short",
            ),
            timeseries(
                "Energy per day (inverter counters)",
                "Energy per flow and rolling day from the inverter's own counters (maps that "
                "have them: SMX-II, 11K, Deye: PV, load, grid import/export, battery).",
                Target(
                    f"increase({sel('gridwatch_inverter_energy_joules_total', INV)}[1d]) / 3.6e6",
                    "{{flow}} {{inverter}}",
                    interval="1h",
                ),
                unit=KWH,
                width=24,
            ),
        ],
    )
    state = Row(
        "Mode, faults and settings",
        [
            timeline(
                "Operating mode",
                "Which mode the inverter was in (mains, off-grid, bypass, charging, fault, …).",
                Target(f"{sel('gridwatch_inverter_operating_mode', INV)} == 1", "{{mode}}"),
                mappings=mapping({"1": ("active", "blue")}),
                width=20,
            ),
            stat(
                "Active faults / warnings",
                "Fault and warning bits set now (names in the timelines below).",
                count_now(f"{sel('gridwatch_inverter_fault', INV)} == 1", "faults"),
                count_now(f"{sel('gridwatch_inverter_warning', INV)} == 1", "warnings"),
                thresholds=RED_AT_1,
                unit="none",
            ),
            _bits(
                "Faults",
                "Every fault bit of the register map over time; red while set.",
                "gridwatch_inverter_fault",
                "{{fault}}",
            ),
            _bits(
                "Warnings",
                "Every warning bit over time; red while set.",
                "gridwatch_inverter_warning",
                "{{warning}}",
            ),
            table(
                "Settings",
                "Settings registers (in the map's unit) and enumerated settings in force.",
                column(sel("gridwatch_inverter_setting", INV)),
                column(f"{sel('gridwatch_inverter_setting_state', INV)} == 1"),
                transformations=organize("inverter", "setting", "state", "Value #A"),
                width=12,
                height=10,
            ),
            table(
                "Inverter",
                "Register map, serial number and rated power.",
                column(sel("gridwatch_inverter_info", INV)),
                column(sel("gridwatch_inverter_rated_power_watts", INV)),
                transformations=organize(
                    "inverter", "model", "serial_number", "Value #B", rename={"Value #B": "rated W"}
                ),
                width=12,
                height=10,
            ),
        ],
    )
    return Dashboard(
        INVERTER_UID,
        "gridwatch · Inverter & battery",
        "The inverter's power flow, mains input and AC output, battery and PV, operating mode, "
        "fault and warning bits and settings.",
        [flow, ac, dc, state],
        [SITE_VAR, INSTANCE_VAR, INVERTER],
        time_from="now-24h",
        refresh="30s",
    )
