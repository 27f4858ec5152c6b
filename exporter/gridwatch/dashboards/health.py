"""gridwatch: source health, errors by reason, scrape cost of the exporter."""

from __future__ import annotations

from gridwatch.dashboards.common import HEALTH, INSTANCE_VAR, SITE_VAR
from gridwatch.dashboards.model import Dashboard, Row, Target, mapping, sel, steps
from gridwatch.dashboards.panels import organize, stat, table, timeline, timeseries

UP = mapping({"1": ("up", "green"), "0": ("DOWN", "red")})
ERRORS = "gridwatch_source_errors_total"


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
                thresholds=steps((None, "red"), (1, "green")),
                height=7,
            ),
            table(
                "Last good reading",
                "Seconds since each source's last good reading, and the last poll's duration.",
                Target(
                    f"time() - {sel('gridwatch_source_last_success_timestamp_seconds')}",
                    "",
                    instant=True,
                    table=True,
                ),
                Target(sel("gridwatch_source_poll_duration_seconds"), "", instant=True, table=True),
                Target(sel("gridwatch_source_push_connected"), "", instant=True, table=True),
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
                overrides=[
                    {
                        "matcher": {"id": "byName", "options": "age"},
                        "properties": [{"id": "unit", "value": "s"}],
                    },
                    {
                        "matcher": {"id": "byName", "options": "poll duration"},
                        "properties": [{"id": "unit", "value": "s"}],
                    },
                ],
            ),
            table(
                "Errors in the range by reason",
                "Failed reads per source and reason in the selected range (reasons: "
                "docs/metrics.md). The status page / of the exporter shows the last message.",
                Target(
                    f"sum by (source, device, reason) (increase({sel(ERRORS)}[$__range])) > 0",
                    "",
                    instant=True,
                    table=True,
                ),
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
                Target(sel("up"), "{{instance}}", instant=True),
                mappings=UP,
                thresholds=steps((None, "red"), (1, "green")),
            ),
            timeseries(
                "Scrape duration",
                "How long one scrape of /metrics takes.",
                Target(sel("scrape_duration_seconds"), "{{instance}}"),
                unit="s",
                width=10,
            ),
            timeseries(
                "Samples per scrape",
                "Series in one scrape (grows with cells, price slots and devices).",
                Target(sel("scrape_samples_scraped"), "{{instance}}"),
                width=10,
                unit="none",
            ),
            timeseries(
                "Exporter CPU",
                "CPU seconds per second used by the exporter process.",
                Target(
                    f"rate({sel('process_cpu_seconds_total')}[$__rate_interval])", "{{instance}}"
                ),
                unit="percentunit",
                width=8,
            ),
            timeseries(
                "Exporter memory",
                "Resident memory of the exporter process.",
                Target(sel("process_resident_memory_bytes"), "{{instance}}"),
                unit="bytes",
                width=8,
            ),
            table(
                "Build",
                "gridwatch and Python versions of each exporter.",
                Target(sel("gridwatch_build_info"), "", instant=True, table=True),
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
                Target(sel("gridwatch_energy_counter_resets_total"), "{{meter}}", instant=True),
                thresholds=steps((None, "green"), (1, "orange")),
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
