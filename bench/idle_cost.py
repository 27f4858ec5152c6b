"""idle_cost: CPU and memory of an exporter that only receives 1 Hz pushes for a minute."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import services
from bench.procs import cpu_seconds, rss_bytes
from bench.report import Result, Target
from bench.scraping import HOMEWIZARD, scrape, value, wait_for_value

WINDOW = 60.0
SETTLE = 5.0  # let the push stream and first allocations settle before measuring
RSS_EVERY = 5.0
MAX_CPU_PCT = 3.0
MAX_RSS_MB = 100.0
MB = 1024 * 1024
UPDATES = "gridwatch_source_updates_total"


async def run(workdir: Path) -> Result:
    result = Result("idle_cost", datetime.now(UTC).isoformat(timespec="seconds"))
    config = workdir / "idle.yml"
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(services.simulator(push_interval=1.0))
        services.write_config(config, sim.v2_meter(push=True, interval="10s"))
        exporter = await stack.enter_async_context(services.exporter("exporter", config))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await wait_for_value(session, exporter.url, "gridwatch_source_push_connected", 1.0, 30)
        await asyncio.sleep(SETTLE)

        pid, sim_pid = exporter.child.pid, sim.child.pid
        # Scrapes sit outside the window: the CPU measured is the cost of idling, not of serving.
        updates_before = value(await scrape(session, exporter.url), UPDATES, **HOMEWIZARD) or 0
        cpu0, sim_cpu0, wall0 = cpu_seconds(pid), cpu_seconds(sim_pid), time.perf_counter()
        rss = [rss_bytes(pid)]
        while (left := WINDOW - (time.perf_counter() - wall0)) > 0:
            await asyncio.sleep(min(RSS_EVERY, left))
            rss.append(rss_bytes(pid))
        cpu1, sim_cpu1, wall1 = cpu_seconds(pid), cpu_seconds(sim_pid), time.perf_counter()
        updates_after = value(await scrape(session, exporter.url), UPDATES, **HOMEWIZARD) or 0

    elapsed = wall1 - wall0
    cpu_pct = 100 * (cpu1 - cpu0) / elapsed
    rss_max = max(rss) / MB
    result.measure("window_s", "Measurement window", elapsed, "s")
    result.measure(
        "updates", "Pushed updates received in the window", updates_after - updates_before
    )
    result.measure("cpu_pct", "Exporter CPU, % of one core", cpu_pct, "%")
    result.measure("cpu_seconds", "Exporter CPU time in the window", cpu1 - cpu0, "s")
    result.measure("rss_end_mb", "Exporter RSS at the end", rss[-1] / MB, "MB")
    result.measure("rss_max_mb", f"Exporter RSS, max of {len(rss)} samples", rss_max, "MB")
    sim_pct = 100 * (sim_cpu1 - sim_cpu0) / elapsed
    result.measure("simulator_cpu_pct", "Simulator CPU (not counted), % of one core", sim_pct, "%")
    result.targets += [
        Target("cpu_pct", "idle CPU, % of one core", cpu_pct, "<=", MAX_CPU_PCT, "%"),
        Target("rss_max_mb", "resident memory (max)", rss_max, "<=", MAX_RSS_MB, "MB"),
    ]
    result.notes += [
        f"`gridwatch run` with one v2 meter receiving 1 Hz WebSocket pushes; measured over "
        f"{WINDOW:g} s after {SETTLE:g} s of settling, with no scrapes inside the window.",
        "CPU from utime+stime in /proc/<pid>/stat (all threads); RSS from VmRSS in "
        "/proc/<pid>/status. The simulator runs in its own process and is not counted.",
    ]
    return result
