"""Fleet: every site of a central store (docs/fleet.md) on one screen, the sites that need
someone first. Each row is a site; the attention column orders them:

4 silent (nothing arrived for 10 minutes but something in the last day), 3 the battery will not
last the next planned outage, 2 the grid is down, 1 a battery below 20 %, 0 fine.

Only the exporter's own series are used, never a site's recording rules, so sites forwarding
through vmagent (no local Prometheus, no rules) show the same columns.
"""

from __future__ import annotations

from typing import Any

from gridwatch.dashboards.common import GRID, INSTANCE_VAR, ORANGE_AT_1, RED_AT_1, SITE_VAR
from gridwatch.dashboards.model import (
    SITE,
    Dashboard,
    Panel,
    Row,
    Target,
    column,
    mapping,
    override,
)
from gridwatch.dashboards.panels import count_now, organize, stat, table, timeline, timeseries

FLEET = "gridwatch-fleet"
S = SITE
SEEN = f"gridwatch_build_info{{{S}}}"  # one series per exporter, on every scrape
SILENT_AFTER = "10m"  # as the SiteSilent rule (prometheus/fleet-rules/fleet.yml)

REPORTING = f"group by (site) (max_over_time({SEEN}[{SILENT_AFTER}]))"
KNOWN = f"group by (site) (max_over_time({SEEN}[1d]))"
SILENT = f"({KNOWN} unless {REPORTING})"
# kWh: what a person compares with a battery's size.
MARGIN = f"(min by (site) (gridwatch_outage_battery_margin_joules{{{S}}}) / 3.6e6)"
GRID_UP = f"min by (site) (gridwatch_grid_up{{{S}}})"
SOC = (
    f"min by (site) (gridwatch_battery_soc_ratio{{{S}}} "
    f"or gridwatch_inverter_battery_soc_ratio{{{S}}})"
)
# `or` keeps the first side that has the site: the most urgent reason wins.
ATTENTION = (
    f"({SILENT} * 4)"
    f" or (group by (site) ({MARGIN} < 0) * 3)"
    f" or (group by (site) ({GRID_UP} == 0) * 2)"
    f" or (group by (site) ({SOC} < 0.2))"
    f" or ({REPORTING} * 0)"
)
RUNTIME = f"min by (site) (gridwatch_outage_battery_runtime_seconds{{{S}}})"
LAST_SEEN = f"time() - max by (site) (max_over_time(timestamp({SEEN})[1d:1m]))"
COST_TODAY = (
    "sum by (site, currency) (gridwatch_energy_period_cost"
    f'{{{S}, direction="import", period="day", price="total"}})'
    " or sum by (site, currency) (gridwatch_energy_period_cost"
    f'{{{S}, direction="import", period="day", price="spot"}})'
)

REASON = mapping(
    {
        "4": ("silent", "red"),
        "3": ("battery short of next outage", "red"),
        "2": ("on battery (grid down)", "orange"),
        "1": ("battery below 20 %", "yellow"),
        "0": ("ok", "green"),
    }
)


def _sites(title: str, description: str, sites: str, legend: str, **kw: Any) -> Panel:
    """How many sites the query ``sites`` (one series per site) holds now."""
    return stat(title, description, count_now(sites, legend), unit="none", **kw)


def dashboard() -> Dashboard:
    overview = Row(
        "Fleet now",
        [
            _sites(
                "Sites reporting",
                f"Sites whose series arrived in the last {SILENT_AFTER}.",
                REPORTING,
                "reporting",
            ),
            _sites(
                "Sites silent",
                f"Sites seen in the last day but not in the last {SILENT_AFTER}: uplink, power "
                "or the site's machine. Their data arrives once they are back (nothing lost "
                "for up to a day with vmagent, about two hours with Prometheus).",
                SILENT,
                "silent",
                thresholds=RED_AT_1,
            ),
            _sites(
                "Sites on battery",
                "Sites whose grid is down now.",
                f"{GRID_UP} == 0",
                "grid down",
                thresholds=ORANGE_AT_1,
            ),
            _sites(
                "Battery short of the next outage",
                "Sites whose usable battery energy is less than the next planned outage needs.",
                f"{MARGIN} < 0",
                "short",
                thresholds=RED_AT_1,
            ),
        ],
    )
    attention = table(
        "Sites, who needs attention first",
        "One row per site. attention: 4 silent, 3 battery short of the next outage, 2 grid "
        "down, 1 battery below 20 %, 0 ok. Seconds since the last series arrived; grid; the "
        "lowest battery SOC; runtime at the present load; energy margin against the next "
        "planned outage (negative: it will not last); today's import cost.",
        column(ATTENTION),
        column(LAST_SEEN),
        column(GRID_UP),
        column(SOC),
        column(RUNTIME),
        column(MARGIN),
        column(COST_TODAY),
        transformations=[
            *organize(
                "site",
                "Value #A",
                "Value #B",
                "Value #C",
                "Value #D",
                "Value #E",
                "Value #F",
                "Value #G",
                "currency",
                rename={
                    "Value #A": "attention",
                    "Value #B": "last seen",
                    "Value #C": "grid",
                    "Value #D": "battery SOC",
                    "Value #E": "runtime",
                    "Value #F": "margin kWh",
                    "Value #G": "cost today",
                },
            ),
            {"id": "sortBy", "options": {"sort": [{"field": "attention", "desc": True}]}},
        ],
        overrides=[
            override("attention", mappings=REASON, custom__cellOptions={"type": "color-text"}),
            override("last seen", unit="s"),
            override("grid", mappings=GRID),
            override("battery SOC", unit="percentunit"),
            override("runtime", unit="s"),
            override("margin kWh", unit="kwatth"),
        ],
        width=24,
        height=12,
    )
    history = Row(
        "Over time",
        [
            timeseries(
                "Sites reporting",
                "How many sites sent series, over time: a dip is a region's uplink or power.",
                Target(f"count({REPORTING})", "reporting"),
                unit="none",
            ),
            timeline(
                "Grid per site",
                "Grid up or down at each site.",
                Target(GRID_UP, "{{site}}"),
                mappings=GRID,
                width=12,
                height=8,
            ),
        ],
    )
    return Dashboard(
        FLEET,
        "gridwatch · Fleet",
        "Every site of the central store: who is silent, on battery, short of the next outage.",
        [overview, Row("Sites", [attention]), history],
        [SITE_VAR, INSTANCE_VAR],
        time_from="now-6h",
        refresh="1m",
    )
