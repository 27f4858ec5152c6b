"""push_capture: share of the meter's pushed measurements that reach the exporter, its cost
accounting and its per-phase peak tracking, vs polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import counting_exporter, services
from bench.report import Result, Target
from bench.scraping import HOMEWIZARD, get_json, scrape, value, wait_for_text, wait_for_value
from gridwatch.sim.polling import wait_until

PUSH_INTERVAL = 1.0
WINDOW = 60.0
PHASE_SERIES = "gridwatch_p1_phase_power_watts{"
UPDATES = "gridwatch_source_updates_total"
MAX_FIRST_SERIES_S = 5.0  # what the demo promises


@dataclass(frozen=True)
class Snapshot:
    at: float
    pushed: int
    push_updates: float
    poll_updates: float
    push_counts: dict[str, int]  # bench.counting_exporter's counters
    poll_counts: dict[str, int]


async def _pushed(session: aiohttp.ClientSession, sim: services.Household) -> int:
    state = await get_json(session, sim.control + "/state")
    assert isinstance(state, dict)
    return int(state["measurements_pushed"])


class Counts:
    """Asks a counting exporter for its counters (SIGUSR1) and waits for its answer."""

    def __init__(self, exporter: services.Exporter) -> None:
        self.exporter = exporter
        self.asked = 0

    async def read(self) -> dict[str, int]:
        self.asked += 1
        self.exporter.child.proc.send_signal(signal.SIGUSR1)
        pattern = re.compile(rf"{counting_exporter.PREFIX} {self.asked} (\{{.*\}})")
        match = await self.exporter.child.wait_for_line(pattern, 10)
        counts: dict[str, int] = json.loads(match[1])
        return counts


async def _snapshot(
    session: aiohttp.ClientSession,
    sim: services.Household,
    push: Counts,
    poll: Counts,
) -> Snapshot:
    # Read the counters half-way between two pushes, so none is in flight while we read.
    start = await _pushed(session, sim)

    async def pushed_again() -> bool:  # the simulator is another process: poll its counter
        return await _pushed(session, sim) != start

    await wait_until(pushed_again, what="the next push", timeout=5 * PUSH_INTERVAL, every=0.01)
    await asyncio.sleep(PUSH_INTERVAL / 2)
    pushed = await _pushed(session, sim)
    push_samples = await scrape(session, push.exporter.url)
    poll_samples = await scrape(session, poll.exporter.url)
    return Snapshot(
        at=time.perf_counter(),
        pushed=pushed,
        push_updates=value(push_samples, UPDATES, **HOMEWIZARD) or 0.0,
        poll_updates=value(poll_samples, UPDATES, **HOMEWIZARD) or 0.0,
        push_counts=await push.read(),
        poll_counts=await poll.read(),
    )


async def run(workdir: Path) -> Result:
    result = Result("push_capture", datetime.now(UTC).isoformat(timespec="seconds"))
    push_cfg, poll_cfg = workdir / "push.yml", workdir / "poll.yml"
    async with contextlib.AsyncExitStack() as stack:
        # The meter and the price server: cost accounting needs prices to exist.
        sim = await stack.enter_async_context(
            services.household(("meter", "prices"), push_interval=PUSH_INTERVAL)
        )
        sim.config(push_cfg, meters={"push": True, "interval": "10s"})
        sim.config(poll_cfg, meters={"push": False, "interval": "10s"})
        session = await stack.enter_async_context(aiohttp.ClientSession())

        # One exporter at a time while starting, so each start-up time is measured on its own.
        module = counting_exporter.__name__
        push = await stack.enter_async_context(
            services.exporter("push-exporter", push_cfg, module=module)
        )
        push_first = await wait_for_text(session, push.url, PHASE_SERIES, 30) - push.spawned_at
        poll = await stack.enter_async_context(
            services.exporter("poll-exporter", poll_cfg, module=module)
        )
        poll_first = await wait_for_text(session, poll.url, PHASE_SERIES, 30) - poll.spawned_at
        await wait_for_value(session, push.url, "gridwatch_source_push_connected", 1.0, 30)

        push_counts, poll_counts = Counts(push), Counts(poll)
        before = await _snapshot(session, sim, push_counts, poll_counts)
        await asyncio.sleep(WINDOW)
        after = await _snapshot(session, sim, push_counts, poll_counts)
        still_connected = value(
            await scrape(session, push.url), "gridwatch_source_push_connected", **HOMEWIZARD
        )

    # Only the push exporter subscribes, so pushes counted = meter updates (one per tick).
    meter_updates = after.pushed - before.pushed
    push_seen = after.push_updates - before.push_updates
    poll_seen = after.poll_updates - before.poll_updates
    push_share = 100 * push_seen / meter_updates
    result.measure("window_s", "Measurement window", after.at - before.at, "s")
    result.measure("meter_updates", "Measurements pushed by the simulator", meter_updates)
    result.measure("push_updates", "Updates counted by the push exporter", push_seen)
    result.measure("push_share_pct", "Share reaching the exporter, push (1 s)", push_share, "%")
    result.measure("poll_updates", "Updates counted by the polling exporter", poll_seen)
    poll_share = 100 * poll_seen / meter_updates
    result.measure("poll_share_pct", "Share of meter updates seen, polling (10 s)", poll_share, "%")
    shares: dict[str, float] = {}
    for way, b, a in (
        ("push", before.push_counts, after.push_counts),
        ("poll", before.poll_counts, after.poll_counts),
    ):
        for key, what in (
            ("cost_new_readings", "cost accounting"),
            ("peak_calls", "per-phase peak tracking"),
        ):
            seen = a.get(key, 0) - b.get(key, 0)
            short = "cost" if key.startswith("cost") else "peaks"
            how = "push (1 s)" if way == "push" else "polling (10 s)"
            result.measure(f"{way}_{short}_readings", f"Readings into {what}, {how}", seen)
            shares[f"{way}_{short}"] = share = 100 * seen / meter_updates
            result.measure(
                f"{way}_{short}_share_pct", f"Share of meter updates into {what}, {how}", share, "%"
            )
    result.measure(
        "push_connected_at_end", "Push stream connected at the end", still_connected or 0
    )
    result.measure("first_series_push_s", "Start to first per-phase series, push", push_first, "s")
    result.measure("first_series_poll_s", "Start to first per-phase series, poll", poll_first, "s")
    result.targets += [
        Target(
            "push_share_pct",
            "pushed measurements reaching the exporter",
            push_share,
            ">=",
            100,
            "%",
        ),
        Target(
            "push_cost_share_pct",
            "pushed measurements reaching the cost accounting",
            shares["push_cost"],
            ">=",
            100,
            "%",
        ),
        Target(
            "push_peaks_share_pct",
            "pushed measurements reaching the per-phase peak tracking",
            shares["push_peaks"],
            ">=",
            100,
            "%",
        ),
        Target(
            "first_series_push_s",
            "exporter start → first per-phase series",
            push_first,
            "<",
            MAX_FIRST_SERIES_S,
            "s",
        ),
    ]
    result.notes += [
        f"Simulator pushes every {PUSH_INTERVAL:g} s over the v2 WebSocket; two `gridwatch run` "
        f"processes watch it for {WINDOW:g} s: one with push, one polling every 10 s (push false).",
        "Counters are read half-way between two pushes, so no message is in flight at either end.",
        "Cost accounting and peak tracking: both exporters run as `python -m "
        "bench.counting_exporter run` (gridwatch's CLI with a counter on the way into "
        "CostAccounting.observe, counting readings newer than the last, and PeakTracker.observe); "
        "the meter and a price server run in bench/household_child.py.",
        "Start-up time runs from process creation (Python start and imports included) to the "
        "first /metrics body with gridwatch_p1_phase_power_watts, polled every 20 ms.",
    ]
    return result
