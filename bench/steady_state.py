"""steady_state: CPU and memory of the exporter running a whole household at realistic rates.

The simulators of bench/household_child.py run in their own process (not counted): the P1
meter pushes every second, the inverter is polled every 2 s over the Eybond dongle, the four
16-cell JK packs every 30 s through the fake BlueZ, prices and outages on their own schedules.
The exporter is scraped every 5 s as the shipped prometheus.yml does, because a deployed
exporter always is; the scrapes' cost is part of what it costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.load import scrape_many
from bench.procs import cpu_seconds, open_fds, rss_bytes
from bench.report import Result, Target
from bench.scrape_household import live_household
from bench.scraping import scrape

WINDOW = 120.0
SETTLE = 10.0  # after every source is up: first allocations, first battery round done
SCRAPE_EVERY = 5.0  # the gridwatch job's scrape_interval in prometheus/prometheus.yml
MAX_CPU_PCT = 3.0
MAX_RSS_MB = 100.0
MB = 1024 * 1024
UPDATES = "gridwatch_source_updates_total"


def _updates(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, float]:
    per_source: dict[str, float] = {}
    for (name, labels), value in samples.items():
        if name == UPDATES:
            source = dict(labels)["source"]
            per_source[source] = per_source.get(source, 0.0) + value
    return per_source


async def run(workdir: Path) -> Result:
    result = Result("steady_state", datetime.now(UTC).isoformat(timespec="seconds"))
    config = workdir / "steady.yml"
    async with contextlib.AsyncExitStack() as stack:
        household, exporter, session = await live_household(stack, config, timeout=90)
        await asyncio.sleep(SETTLE)

        pid, sim_pid = exporter.child.pid, household.child.pid
        before = _updates(await scrape(session, exporter.url))
        cpu0, sim_cpu0, wall0 = cpu_seconds(pid), cpu_seconds(sim_pid), time.perf_counter()
        rss, scrapes = [rss_bytes(pid)], 0
        while (left := WINDOW - (time.perf_counter() - wall0)) > 0:
            await asyncio.sleep(min(SCRAPE_EVERY, left))
            if left > SCRAPE_EVERY / 2:  # not one right at the end
                await scrape_many(session, exporter.url + "/metrics", 1, 1)
                scrapes += 1
            rss.append(rss_bytes(pid))
        cpu1, sim_cpu1, wall1 = cpu_seconds(pid), cpu_seconds(sim_pid), time.perf_counter()
        fds = open_fds(pid)
        after = _updates(await scrape(session, exporter.url))

    elapsed = wall1 - wall0
    cpu_pct = 100 * (cpu1 - cpu0) / elapsed
    rss_max = max(rss) / MB
    result.measure("window_s", "Measurement window", elapsed, "s")
    result.measure("scrapes", "Scrapes inside the window (every 5 s, gzip)", scrapes)
    for source in sorted(after):
        result.measure(
            f"updates_{source}",
            f"Updates in the window: {source}",
            after[source] - before.get(source, 0.0),
        )
    result.measure("cpu_pct", "Exporter CPU, % of one core", cpu_pct, "%")
    result.measure("cpu_seconds", "Exporter CPU time in the window", cpu1 - cpu0, "s")
    result.measure("rss_end_mb", "Exporter RSS at the end", rss[-1] / MB, "MB")
    result.measure("rss_max_mb", f"Exporter RSS, max of {len(rss)} samples", rss_max, "MB")
    result.measure("open_fds", "Exporter open file descriptors at the end", fds)
    sim_pct = 100 * (sim_cpu1 - sim_cpu0) / elapsed
    result.measure(
        "simulators_cpu_pct", "Simulators' process (not counted), % of one core", sim_pct, "%"
    )
    result.targets += [
        Target("cpu_pct", "household CPU, % of one core", cpu_pct, "<=", MAX_CPU_PCT, "%"),
        Target("rss_max_mb", "household resident memory (max)", rss_max, "<=", MAX_RSS_MB, "MB"),
    ]
    result.notes += [
        f"`gridwatch run` with the whole household for {WINDOW:g} s after every source was up "
        f"and {SETTLE:g} s more: meter push 1 Hz, inverter (Eybond) every 2 s, 4 × 16-cell JK "
        "packs (fake BlueZ, keep-alive) every 30 s, prices and outages (every 10 min) on their "
        f"schedules; scraped every {SCRAPE_EVERY:g} s with Prometheus's headers.",
        "CPU from utime+stime in /proc/<pid>/stat (all threads); RSS from VmRSS. The simulators "
        "and the private dbus-daemon run in other processes and are not counted.",
    ]
    return result
