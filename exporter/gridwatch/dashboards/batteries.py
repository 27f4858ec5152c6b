"""Batteries: per pack cell voltages, delta, temperatures, SOC, current, runtime."""

from __future__ import annotations

from gridwatch.dashboards.common import (
    BAT,
    BATTERIES,
    BATTERY,
    INSTANCE_VAR,
    KWH,
    ON_OFF,
    PROBLEM,
    SITE_VAR,
    SOC,
)
from gridwatch.dashboards.model import Dashboard, Row, Target, column, instant, override, sel, steps
from gridwatch.dashboards.panels import (
    LEVEL_LINES,
    bars,
    between_levels,
    levels,
    organize,
    per_device,
    ratio_gauge,
    stat,
    table,
    timeline,
    timeseries,
)

# Cells "1".."32" sort as text; a leading zero keeps cell 2 before cell 10 in bars and legends.
CELLS = (
    f"label_replace({sel('gridwatch_battery_cell_voltage_volts', BAT)}, "
    '"cell", "0$1", "cell", "^([0-9])$")'
)
DELTA = "gridwatch_battery_cell_delta_volts"
DELTA_LEVELS = (
    "gridwatch_battery_cell_delta_warning_volts",
    "gridwatch_battery_cell_delta_critical_volts",
)


def _now(metric: str) -> Target:
    return per_device(metric, BATTERY)


def dashboard() -> Dashboard:
    packs = Row(
        "Packs",
        [
            ratio_gauge(
                "SOC",
                "State of charge per pack.",
                _now("gridwatch_battery_soc_ratio"),
                thresholds=SOC,
                width=6,
            ),
            stat(
                "Pack voltage",
                "Pack voltage per battery.",
                _now("gridwatch_battery_voltage_volts"),
                unit="volt",
                decimals=2,
            ),
            stat(
                "Current (+ charging)",
                "Pack current: positive while charging, negative while discharging.",
                _now("gridwatch_battery_current_amperes"),
                unit="amp",
                decimals=1,
            ),
            stat(
                "Runtime at present load",
                "Time to empty at the present discharge current; shown only while discharging.",
                _now("gridwatch_battery_runtime_seconds"),
                unit="s",
                no_value="charging or idle",
                thresholds=steps((None, "red"), (3600, "orange"), (4 * 3600, "green")),
            ),
            stat(
                "Energy left",
                "Remaining charge × voltage, per pack.",
                instant(
                    sel("gridwatch_battery_remaining_energy_joules", BAT) + " / 3.6e6",
                    "{{battery}}",
                ),
                unit=KWH,
                decimals=2,
                width=6,
            ),
            timeseries(
                "SOC over time",
                "State of charge per pack.",
                Target(sel("gridwatch_battery_soc_ratio", BAT), "{{battery}}"),
                unit="percentunit",
                min=0,
                max=1,
            ),
            timeseries(
                "Current and power",
                "Pack current (+ charging) and power.",
                Target(sel("gridwatch_battery_current_amperes", BAT), "A {{battery}}"),
                Target(sel("gridwatch_battery_power_watts", BAT), "W {{battery}}"),
                overrides=[
                    override("W .*", regexp=True, unit="watt", custom__axisPlacement="right")
                ],
                unit="amp",
            ),
        ],
    )
    cells = Row(
        "Cells",
        [
            bars(
                "Cell voltages",
                "Every cell of every selected pack now (scale for LiFePO4: 2.5–3.65 V).",
                instant(CELLS, "{{battery}} cell {{cell}}"),
                unit="volt",
                decimals=3,
                min=2.5,
                max=3.65,
                thresholds=steps(
                    (None, "red"), (2.9, "orange"), (3.0, "green"), (3.5, "orange"), (3.6, "red")
                ),
                orientation="vertical",
                width=16,
                height=9,
            ),
            between_levels(
                "Cell delta",
                "Highest − lowest cell voltage. Colours from the packs' configured levels "
                "(cell_delta_warning / cell_delta_critical).",
                _now(DELTA),
                *levels(*DELTA_LEVELS, BAT),
                unit="volt",
                decimals=3,
                height=9,
            ),
            table(
                "Lowest / highest cell",
                "Which cell is lowest and which highest, per pack (1-based).",
                column(sel("gridwatch_battery_lowest_cell_number", BAT)),
                column(sel("gridwatch_battery_highest_cell_number", BAT)),
                transformations=organize(
                    "battery",
                    "Value #A",
                    "Value #B",
                    rename={"Value #A": "lowest", "Value #B": "highest"},
                ),
                width=4,
                height=9,
            ),
            timeseries(
                "Cell voltages over time",
                "Every cell over time: a cell that drifts away from the others needs balancing.",
                Target(CELLS, "{{battery}} {{cell}}"),
                unit="volt",
                decimals=3,
                width=16,
                height=9,
            ),
            timeseries(
                "Cell delta over time",
                "Delta per pack with the warning and critical levels.",
                Target(sel(DELTA, BAT), "{{battery}}"),
                *levels(*DELTA_LEVELS, BAT, now=False),
                unit="volt",
                decimals=3,
                overrides=LEVEL_LINES,
                width=8,
                height=9,
            ),
        ],
    )
    state = Row(
        "Temperatures and state",
        [
            timeseries(
                "Temperatures",
                "Every temperature sensor the BMS reports (MOSFET, cells, …).",
                Target(
                    sel("gridwatch_battery_temperature_celsius", BAT),
                    "{{battery}} {{type}} {{sensor}}",
                ),
                unit="celsius",
            ),
            timeline(
                "MOSFETs, balancer, heater",
                "Charge/discharge MOSFETs (off = the BMS cut the pack), balancer and heater.",
                Target(sel("gridwatch_battery_charge_mosfet_on", BAT), "{{battery}} charge"),
                Target(sel("gridwatch_battery_discharge_mosfet_on", BAT), "{{battery}} discharge"),
                Target(sel("gridwatch_battery_balancing", BAT), "{{battery}} balancing"),
                Target(sel("gridwatch_battery_heating", BAT), "{{battery}} heating"),
                mappings=ON_OFF,
                width=12,
                height=8,
            ),
            timeline(
                "Problems",
                "The BMS flags a problem or values are implausible (code in docs/batteries.md).",
                Target(sel("gridwatch_battery_problem", BAT), "{{battery}}"),
                mappings=PROBLEM,
                width=12,
                height=4,
            ),
            table(
                "Packs",
                "Type, firmware, cells, cycles, health and capacity per pack.",
                column(sel("gridwatch_battery_info", BAT)),
                column(sel("gridwatch_battery_cells", BAT)),
                column(sel("gridwatch_battery_cycles_total", BAT)),
                column(sel("gridwatch_battery_soh_ratio", BAT)),
                column(sel("gridwatch_battery_design_charge_coulombs", BAT) + " / 3600"),
                column(sel("gridwatch_battery_problem_code", BAT)),
                transformations=organize(
                    "battery",
                    "type",
                    "model",
                    "sw_version",
                    "Value #B",
                    "Value #C",
                    "Value #D",
                    "Value #E",
                    "Value #F",
                    rename={
                        "Value #B": "cells",
                        "Value #C": "cycles",
                        "Value #D": "health",
                        "Value #E": "capacity Ah",
                        "Value #F": "problem code",
                    },
                ),
                overrides=[override("health", unit="percentunit")],
                width=12,
                height=4,
            ),
        ],
    )
    return Dashboard(
        BATTERIES,
        "gridwatch · Batteries",
        "BMS packs: every cell, delta against the configured levels, temperatures, SOC, current, "
        "runtime, MOSFETs and balancer.",
        [packs, cells, state],
        [SITE_VAR, INSTANCE_VAR, BATTERY],
        time_from="now-6h",
        refresh="30s",
    )
