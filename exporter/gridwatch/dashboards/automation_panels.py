"""The Prices dashboard's "Scheduled loads" row: which quarters each load is planned for and
why, what the automation wants now, and peak shaving's prediction against its limit."""

from __future__ import annotations

from gridwatch.dashboards.common import M
from gridwatch.dashboards.model import Panel, Row, Target, column, instant, mapping, sel
from gridwatch.dashboards.panels import organize, stat, table, timeline, timeseries

ON_OFF = mapping({"0": ("off", "text"), "1": ("on", "green")})
NO_LOADS = "no scheduled loads (automation.loads in the config: docs/automation.md)"


def _plan_table(day: str) -> Panel:
    return table(
        f"Planned quarters {day}",
        f"The quarters {day} each load is planned to run in and why: cheapest (among the N "
        "cheapest of its window), below (price under on_below), fallback (no price when due). "
        "Re-planned by the exporter when tomorrow's prices arrive.",
        column(f"{sel('gridwatch_load_planned_on', f'day="{day}"')} == 1"),
        transformations=[
            *organize("load", "slot", "reason"),
            {
                "id": "sortBy",
                "options": {"sort": [{"field": "load"}, {"field": "slot", "desc": False}]},
            },
        ],
        no_value=NO_LOADS if day == "today" else "tomorrow's prices are not published yet",
        width=8,
    )


def scheduled_loads_row() -> Row:
    return Row(
        "Scheduled loads",
        [
            _plan_table("today"),
            _plan_table("tomorrow"),
            table(
                "Wanted now",
                "What the automation wants each load to be now and why (its schedule's reason, "
                "or peak_shaving). The receiver switches the plug to it unless the grid is "
                "down (load shedding wins) or a person has overridden it.",
                column(sel("gridwatch_load_desired_on")),
                transformations=organize("load", "plug", "reason", "Value", rename={"Value": "on"}),
                mappings=ON_OFF,
                no_value=NO_LOADS,
                width=8,
            ),
            timeline(
                "Loads on over time",
                "1 while the automation wanted a load on (after peak shaving).",
                Target(f"max by (load) ({sel('gridwatch_load_desired_on')})", "{{load}}"),
                mappings=ON_OFF,
                no_value=NO_LOADS,
                width=12,
            ),
            timeseries(
                "Peak shaving: predicted hour vs limit",
                "The clock hour's average as the capacity fee would count it, predicted from the "
                "energy so far and the present power, against the level that would set a new "
                "counted peak (less the margin). Shaving is active while loads are shed.",
                Target(sel("gridwatch_peak_shaving_predicted_watts", M), "predicted {{meter}}"),
                Target(sel("gridwatch_peak_shaving_limit_watts", M), "limit {{meter}}"),
                Target(
                    sel("gridwatch_peak_shaving_active", M)
                    + " * "
                    + sel("gridwatch_peak_shaving_limit_watts", M),
                    "shaving {{meter}}",
                ),
                unit="watt",
                width=12,
                no_value="peak shaving is not configured (automation.peak_shaving)",
            ),
            stat(
                "Loads shed now",
                "How many loads peak shaving keeps off at this moment.",
                instant(
                    f"sum by (meter) ({sel('gridwatch_peak_shaving_load_shed', M)})", "{{meter}}"
                ),
                unit="none",
                width=4,
            ),
        ],
    )
