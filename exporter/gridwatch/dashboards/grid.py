"""Grid & phases: per-phase current against the fuse, voltage against 207/253 V, balance."""

from __future__ import annotations

from gridwatch.dashboards import submeters
from gridwatch.dashboards.common import (
    GREEN_AT_1,
    GRID,
    GRID_UID,
    INSTANCE_VAR,
    METER,
    ORANGE_AT_1,
    SITE_VAR,
    VOLTAGE,
    M,
)
from gridwatch.dashboards.model import (
    Dashboard,
    Row,
    Target,
    instant,
    level_from,
    override,
    phase_overrides,
    sel,
)
from gridwatch.dashboards.panels import (
    LEVEL_LINES,
    bars,
    between_levels,
    grid_now,
    levels,
    per_device,
    pie,
    stat,
    timeline,
    timeseries,
)

PEAK = sel("gridwatch_p1_phase_current_peak_amperes", M)
CURRENT = f"abs({sel('gridwatch_p1_phase_current_amperes', M)})"
FUSE_LINE = override(
    "fuse",
    color={"mode": "fixed", "fixedColor": "red"},
    custom__lineStyle={"fill": "dash", "dash": [10, 10]},
    custom__fillOpacity=0,
    custom__lineWidth=2,
)
IMBALANCE = "gridwatch_p1_phase_imbalance_amperes"
IMBALANCE_WARNING = "gridwatch_p1_phase_imbalance_warning_amperes"
IMBALANCE_CRITICAL = "gridwatch_p1_phase_imbalance_critical_amperes"
# The alert rules' near-fuse level (alerts.phase_near_fuse_ratio), default 0.9 like the rule.
NEAR_FUSE = f"max({sel('gridwatch_alert_phase_near_fuse_ratio')}) or on() vector(0.9)"
# Percent of the near-fuse level (the bar's max, from the query above): red at it.
NEAR_FUSE_LEVELS = {
    "mode": "percentage",
    "steps": [
        {"value": None, "color": "green"},
        {"value": 90, "color": "yellow"},
        {"value": 100, "color": "red"},
    ],
}


def dashboard() -> Dashboard:
    now = Row(
        "Now",
        [
            stat(
                "Current per phase",
                "|I| per phase now (the fuse trips on magnitude, whichever way power flows) and "
                "the meter's total.",
                instant(CURRENT, "{{phase}}"),
                instant(sel("gridwatch_p1_current_amperes", M), "total"),
                unit="amp",
                decimals=1,
                width=6,
                overrides=phase_overrides(),
            ),
            stat(
                "Voltage per phase",
                "Green inside 207–253 V (230 V ± 10 %, EN 50160), red outside.",
                instant(sel("gridwatch_p1_phase_voltage_volts", M), "{{phase}}"),
                unit="volt",
                decimals=1,
                thresholds=VOLTAGE,
                width=6,
            ),
            stat(
                "Power per phase",
                "Active power per phase and in total; negative while exporting.",
                instant(sel("gridwatch_p1_phase_power_watts", M), "{{phase}}"),
                instant(sel("gridwatch_p1_power_watts", M), "total"),
                unit="watt",
                width=6,
            ),
            between_levels(
                "Max imbalance",
                "max − min of |I| over the phases. Colours come from the meter's configured "
                "levels (imbalance_warning_amperes / imbalance_critical_amperes).",
                per_device(IMBALANCE, METER),
                *levels(IMBALANCE_WARNING, IMBALANCE_CRITICAL, M),
                unit="amp",
                decimals=1,
                width=3,
            ),
            grid_now("Debounced grid state from the inverter and/or the meter.", width=3),
        ],
    )
    phases = Row(
        "Phases",
        [
            timeseries(
                "Current per phase vs fuse",
                "|I| per phase with the configured main fuse (fuse_amperes) as a dashed line.",
                Target(CURRENT, "{{phase}}"),
                Target(sel("gridwatch_p1_fuse_amperes", M), "fuse"),
                unit="amp",
                overrides=[*phase_overrides(), FUSE_LINE],
                width=18,
            ),
            pie(
                "Phase balance",
                "Share of |I| per phase now: a big slice is the phase to move loads away from.",
                instant(CURRENT, "{{phase}}"),
                unit="amp",
                overrides=phase_overrides(),
            ),
            timeseries(
                "Voltage per phase vs 207/253 V",
                "Voltage per phase; the dashed lines are the 207 V and 253 V limits.",
                Target(sel("gridwatch_p1_phase_voltage_volts", M), "{{phase}}"),
                unit="volt",
                thresholds=VOLTAGE,
                threshold_style="dashed",
                overrides=phase_overrides(),
            ),
            bars(
                "Phase load vs fuse",
                "|I| / fuse per phase. The bar is full at the near-fuse alert level (default "
                "90 % of the fuse): yellow from 90 % of that level, red at it.",
                instant(sel("gridwatch_p1_phase_load_ratio", M), "{{phase}}"),
                instant(NEAR_FUSE, "near fuse"),
                unit="percentunit",
                min=0,
                thresholds=NEAR_FUSE_LEVELS,
                transformations=[level_from("B", "near fuse", "max")],
                width=12,
                height=8,
            ),
            timeseries(
                "Imbalance",
                "Phase imbalance over time with the meter's warning and critical levels.",
                Target(sel(IMBALANCE, M), "imbalance {{meter}}"),
                Target(sel(IMBALANCE_WARNING, M), "warning"),
                Target(sel(IMBALANCE_CRITICAL, M), "critical"),
                unit="amp",
                overrides=LEVEL_LINES,
            ),
            timeseries(
                "Peak current between scrapes",
                "Highest |I| among all meter updates (1 s on DSMR 5) — catches short peaks "
                "a scrape interval would miss.",
                Target(
                    f"max_over_time({PEAK}[$__rate_interval])",
                    "{{phase}}",
                ),
                Target(sel("gridwatch_p1_fuse_amperes", M), "fuse"),
                unit="amp",
                overrides=[*phase_overrides(), FUSE_LINE],
            ),
            timeseries(
                "Power per phase",
                "Active power per phase (negative = export).",
                Target(sel("gridwatch_p1_phase_power_watts", M), "{{phase}}"),
                unit="watt",
                overrides=phase_overrides(),
            ),
        ],
    )
    quality = Row(
        "Grid quality",
        [
            timeseries(
                "Frequency",
                "Grid frequency from the meter and from the inverter's mains input.",
                Target(sel("gridwatch_p1_frequency_hertz", M), "meter {{meter}}"),
                Target(sel("gridwatch_inverter_mains_frequency_hertz"), "inverter {{inverter}}"),
                unit="hertz",
                decimals=2,
                width=8,
            ),
            stat(
                "Sags / swells (meter lifetime)",
                "Voltage sags and swells counted by the meter per phase, and power failures.",
                instant(sel("gridwatch_p1_voltage_sags_total", M), "sags {{phase}}"),
                instant(sel("gridwatch_p1_voltage_swells_total", M), "swells {{phase}}"),
                instant(sel("gridwatch_p1_power_failures_total", M), "power failures"),
                instant(sel("gridwatch_p1_long_power_failures_total", M), "long failures"),
                width=8,
                height=6,
                unit="none",
            ),
            stat(
                "New in the range",
                "Sags, swells and power failures that happened in the selected time range.",
                *(
                    instant(f"sum(increase({sel(metric, M)}[$__range]))", name)
                    for metric, name in (
                        ("gridwatch_p1_voltage_sags_total", "sags"),
                        ("gridwatch_p1_voltage_swells_total", "swells"),
                        ("gridwatch_p1_power_failures_total", "failures"),
                    )
                ),
                thresholds=ORANGE_AT_1,
                decimals=0,
                width=8,
                height=6,
                unit="none",
            ),
            timeline(
                "Grid presence",
                "Grid up/down per device that sees it (inverter mains input, P1 meter) and the "
                "combined state the alerts use.",
                Target(sel("gridwatch_grid_up"), "grid"),
                Target(sel("gridwatch_grid_signal_up"), "{{source}} {{device}}"),
                mappings=GRID,
                thresholds=GREEN_AT_1,
            ),
        ],
    )
    return Dashboard(
        GRID_UID,
        "gridwatch · Grid & phases",
        "Per-phase current against the main fuse, voltage against 207/253 V, phase balance, "
        "peaks between scrapes, the meter's power-quality counters and consumption by sub-meter.",
        [now, phases, quality, submeters.row()],
        [SITE_VAR, INSTANCE_VAR, METER],
        time_from="now-6h",
        refresh="10s",
    )
