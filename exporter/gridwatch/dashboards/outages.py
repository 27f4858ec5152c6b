"""Outages: the queue's schedule today/tomorrow, outages against grid-up, battery vs outage."""

from __future__ import annotations

from gridwatch.dashboards.common import (
    GREEN_AT_1,
    GRID,
    INSTANCE_VAR,
    KWH,
    OUTAGES,
    QUEUE,
    RED_AT_1,
    SITE_VAR,
    Q,
)
from gridwatch.dashboards.model import (
    Dashboard,
    Row,
    Target,
    instant,
    mapping,
    override,
    sel,
    steps,
)
from gridwatch.dashboards.panels import bars, per_device, stat, timeline, timeseries

PUBLISHED = mapping({"1": ("in force", "green"), "0": ("no information yet", "orange")})
# The day status state set folded into one number per day, so a stat can name it.
STATUS_CODES = (("published", 1), ("waiting", 2), ("emergency", 3), ("no_outages", 4))
DAY_STATUS = mapping(
    {
        "0": ("no data", "orange"),
        "1": ("published", "blue"),
        "2": ("waiting (preliminary)", "orange"),
        "3": ("EMERGENCY: schedule suspended", "red"),
        "4": ("no outages", "green"),
    }
)


def _day_status() -> str:
    parts = [
        f"({sel('gridwatch_outage_schedule_day_status', Q, f'status="{name}"')} * {code})"
        for name, code in STATUS_CODES
    ]
    return " + ignoring(status) ".join(parts)


PLANNED = mapping({"1": ("planned outage", "red"), "0": ("no outage planned", "green")})


def dashboard() -> Dashboard:
    schedule = Row(
        "Schedule",
        [
            stat(
                "Planned outage now",
                "Is the queue inside a planned outage window right now?",
                per_device("gridwatch_outage_schedule_outage_active", QUEUE),
                mappings=PLANNED,
                thresholds=RED_AT_1,
                no_value="no schedule",
            ),
            stat(
                "Next outage",
                "Start and end of the outage in progress, else of the next one.",
                instant(
                    sel("gridwatch_outage_schedule_next_outage_start_timestamp_seconds", Q)
                    + " * 1000",
                    "starts",
                ),
                instant(
                    sel("gridwatch_outage_schedule_next_outage_end_timestamp_seconds", Q)
                    + " * 1000",
                    "ends",
                ),
                unit="dateTimeAsLocalNoDateIfToday",
                no_value="none planned",
                width=6,
            ),
            stat(
                "Starts in / lasts",
                "Time until the next outage starts (0 while one is on) and how much of it is left.",
                instant(sel("gridwatch:outage_next_starts_in_seconds", Q), "starts in"),
                instant(sel("gridwatch:outage_next_remaining_seconds", Q), "to cover"),
                unit="s",
                width=6,
            ),
            bars(
                "Outage time per day",
                "Definite outages (in force) and possible ones (the operator's 'maybe' half hours "
                "and weekly template), today and tomorrow, DST-correct.",
                instant(
                    sel("gridwatch_outage_schedule_planned_outage_seconds", Q), "{{day}} definite"
                ),
                instant(
                    sel("gridwatch_outage_schedule_possible_outage_seconds", Q), "{{day}} possible"
                ),
                unit="s",
                min=0,
                max=86400,
                thresholds=steps((None, "green"), (4 * 3600, "orange"), (8 * 3600, "red")),
                width=4,
                height=4,
            ),
            stat(
                "Day status",
                "Published, waiting (preliminary windows, not alerted on), emergency (schedule "
                "suspended), no outages, or no data. 'No data' is never 'no outages'.",
                instant(_day_status(), "{{day}}"),
                mappings=DAY_STATUS,
                thresholds=steps((None, "orange"), (4, "green")),
            ),
            stat(
                "Published",
                "Is the day's schedule in force (published, with or without outages)? 'No "
                "information' is not 'no outages'.",
                instant(sel("gridwatch_outage_schedule_day_published", Q), "{{day}}"),
                mappings=PUBLISHED,
                thresholds=steps((None, "orange"), (1, "green")),
            ),
        ],
    )
    history = Row(
        "Outages and the grid",
        [
            timeline(
                "Planned outages vs grid",
                "Planned outage windows of the queue against what the inverter/meter saw: did the "
                "outage really come, and on time?",
                Target(sel("gridwatch_outage_schedule_outage_active", Q), "planned {{queue}}"),
                Target(sel("gridwatch_grid_up"), "grid"),
                thresholds=RED_AT_1,
                overrides=[
                    override("grid", mappings=GRID, thresholds=GREEN_AT_1),
                    override("planned.*", regexp=True, mappings=PLANNED),
                ],
            ),
            stat(
                "Grid changes in the range",
                "How often the grid went away or came back in the selected range.",
                instant(f"changes({sel('gridwatch_grid_up')}[$__range])", "changes"),
                decimals=0,
                unit="none",
            ),
            stat(
                "Grid in this state since",
                "When the grid last went away or came back (kept across exporter restarts).",
                instant(sel("gridwatch_grid_last_change_timestamp_seconds") + " * 1000", "since"),
                unit="dateTimeFromNow",
                no_value="no change seen yet",
            ),
            stat(
                "Schedule changes in the range",
                "Downloads whose windows changed for today or later.",
                instant(
                    f"increase({sel('gridwatch_outage_schedule_changes_total', Q)}[$__range])",
                    "{{queue}}",
                ),
                decimals=0,
                unit="none",
            ),
            stat(
                "Schedule updated",
                "When the windows last changed, and when the schedule in use was downloaded.",
                instant(
                    sel("gridwatch_outage_schedule_last_change_timestamp_seconds", Q) + " * 1000",
                    "changed",
                ),
                instant(
                    sel("gridwatch_outage_schedule_fetched_timestamp_seconds", Q) + " * 1000",
                    "fetched",
                ),
                unit="dateTimeFromNow",
                width=8,
            ),
        ],
    )
    battery = Row(
        "Battery against the next outage",
        [
            stat(
                "Will the battery last?",
                "Energy above the reserve minus the energy the rest of the current / next outage "
                "needs at the typical (else present) load.",
                per_device("gridwatch:outage_battery_will_not_last", QUEUE),
                mappings=mapping(
                    {"0": ("it will last", "green"), "1": ("it will NOT last", "red")}
                ),
                thresholds=RED_AT_1,
                width=6,
            ),
            stat(
                "Runtime margin",
                "Runtime at the present load minus the outage time to cover.",
                per_device("gridwatch:outage_battery_runtime_margin_seconds", QUEUE),
                unit="s",
                thresholds=steps((None, "red"), (0, "green")),
                width=6,
            ),
            timeseries(
                "Energy available vs needed",
                "Usable battery energy against what the next outage needs.",
                Target(sel("gridwatch_outage_battery_energy_joules", Q) + " / 3.6e6", "available"),
                Target(sel("gridwatch_outage_energy_needed_joules", Q) + " / 3.6e6", "needed"),
                Target(sel("gridwatch_outage_battery_margin_joules", Q) + " / 3.6e6", "margin"),
                unit=KWH,
            ),
            timeseries(
                "Runtime vs outage",
                "Battery runtime at the present load against the outage time left to cover.",
                Target(sel("gridwatch_outage_battery_runtime_seconds", Q), "runtime"),
                Target(sel("gridwatch:outage_next_remaining_seconds", Q), "outage to cover"),
                Target(sel("gridwatch_outage_battery_load_watts", Q), "load W"),
                unit="s",
                overrides=[override("load W", unit="watt", custom__axisPlacement="right")],
            ),
        ],
    )
    return Dashboard(
        OUTAGES,
        "gridwatch · Outages",
        "The queue's planned outages today and tomorrow, planned windows against the real grid "
        "state, grid-loss history and whether the battery lasts the next outage.",
        [schedule, history, battery],
        [SITE_VAR, INSTANCE_VAR, QUEUE],
        time_from="now-24h",
        refresh="1m",
    )
