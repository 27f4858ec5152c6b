"""gridwatch: source health, errors by reason, scrape cost of the exporter."""

from __future__ import annotations

from typing import Any

from gridwatch.dashboards.common import GREEN_AT_1, HEALTH, INSTANCE_VAR, ORANGE_AT_1, SITE_VAR
from gridwatch.dashboards.model import (
    Dashboard,
    Panel,
    Row,
    Target,
    column,
    instant,
    mapping,
    override,
    sel,
)
from gridwatch.dashboards.panels import organize, stat, table, timeline, timeseries

UP = mapping({"1": ("up", "green"), "0": ("DOWN", "red")})
ERRORS = "gridwatch_source_errors_total"


def _per_exporter(title: str, description: str, expr: str, **kw: Any) -> Panel:
    """``expr`` over time, one line per exporter."""
    return timeseries(title, description, Target(expr, "{{instance}}"), **kw)


def dashboard() -> Dashboard:
    sources = Row(
        "Sources",
        [
            timeline(
                "Source up",
                "Did each source's last read succeed? (down = its device series vanish after "
                "the staleness window).",
                Target(sel("gridwatch_source_up"), "{{source}} {{device}}"),
                mappings=UP,
                thresholds=GREEN_AT_1,
                height=7,
            ),
            table(
                "Last good reading",
                "Seconds since each source's last good reading, and the last poll's duration.",
                column(f"time() - {sel('gridwatch_source_last_success_timestamp_seconds')}"),
                column(sel("gridwatch_source_poll_duration_seconds")),
                column(sel("gridwatch_source_push_connected")),
                transformations=organize(
                    "source",
                    "device",
                    "Value #A",
                    "Value #B",
                    "Value #C",
                    rename={
                        "Value #A": "age",
                        "Value #B": "poll duration",
                        "Value #C": "push connected",
                    },
                ),
                overrides=[override("age", unit="s"), override("poll duration", unit="s")],
            ),
            table(
                "Errors in the range by reason",
                "Failed reads per source and reason in the selected range (reasons: "
                "docs/metrics.md). The status page / of the exporter shows the last message.",
                column(f"sum by (source, device, reason) (increase({sel(ERRORS)}[$__range])) > 0"),
                transformations=organize(
                    "source", "device", "reason", "Value", rename={"Value": "errors"}
                ),
                no_value="no errors",
            ),
            timeseries(
                "Errors per minute",
                "Failed reads per minute by source and reason; 0 for sources without errors.",
                Target(
                    "(sum by (source, device, reason) "
                    f"(rate({sel(ERRORS)}[$__rate_interval])) * 60)"
                    f" or on (source, device) (0 * {sel('gridwatch_source_up')})",
                    "{{source}} {{device}} {{reason}}",
                ),
                unit="short",
            ),
            timeseries(
                "Updates per minute",
                "Readings accepted per minute (polled or pushed).",
                Target(
                    f"rate({sel('gridwatch_source_updates_total')}[$__rate_interval]) * 60",
                    "{{source}} {{device}}",
                ),
                unit="none",
            ),
            timeseries(
                "Poll duration",
                "How long each source's poll took.",
                Target(sel("gridwatch_source_poll_duration_seconds"), "{{source}} {{device}}"),
                unit="s",
            ),
        ],
    )
    scrape = Row(
        "Exporter and scrape cost",
        [
            stat(
                "Exporter up",
                "Prometheus could scrape the exporter.",
                instant(sel("up"), "{{instance}}"),
                mappings=UP,
                thresholds=GREEN_AT_1,
            ),
            _per_exporter(
                "Scrape duration",
                "How long one scrape of /metrics takes.",
                sel("scrape_duration_seconds"),
                unit="s",
                width=10,
            ),
            _per_exporter(
                "Samples per scrape",
                "Series in one scrape (grows with cells, price slots and devices).",
                sel("scrape_samples_scraped"),
                width=10,
                unit="none",
            ),
            _per_exporter(
                "Exporter CPU",
                "CPU seconds per second used by the exporter process.",
                f"rate({sel('process_cpu_seconds_total')}[$__rate_interval])",
                unit="percentunit",
                width=8,
            ),
            _per_exporter(
                "Exporter memory",
                "Resident memory of the exporter process.",
                sel("process_resident_memory_bytes"),
                unit="bytes",
                width=8,
            ),
            table(
                "Build",
                "gridwatch and Python versions of each exporter.",
                column(sel("gridwatch_build_info")),
                transformations=organize("instance", "version", "python_version"),
                width=8,
            ),
        ],
    )
    accounting = Row(
        "Prices and accounting",
        [
            timeseries(
                "Price fetches",
                "Price requests per provider and result in the last hour (a failing primary "
                "behind a working fallback shows here).",
                Target(
                    f"increase({sel('gridwatch_price_fetches_total')}[1h])",
                    "{{provider}} {{result}}",
                ),
                unit="none",
            ),
            timeseries(
                "Energy waiting for a price",
                "Energy not priced yet because its quarter's price is unknown (kWh).",
                Target(
                    sel("gridwatch_energy_unpriced_joules") + " / 3.6e6", "{{meter}} {{direction}}"
                ),
                unit="kwatth",
            ),
            stat(
                "Counter resets",
                "Meter register resets, implausible jumps and replacements (not priced).",
                instant(sel("gridwatch_energy_counter_resets_total"), "{{meter}}"),
                thresholds=ORANGE_AT_1,
                decimals=0,
                unit="none",
            ),
        ],
    )
    return Dashboard(
        HEALTH,
        "gridwatch · gridwatch",
        "Is gridwatch itself healthy? Source up/down, errors by reason, freshness, poll and "
        "scrape cost.",
        [sources, scrape, accounting],
        [SITE_VAR, INSTANCE_VAR],
        time_from="now-6h",
        refresh="30s",
    )
