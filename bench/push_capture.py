"""push_capture: share of the meter's pushed measurements that reach the exporter, vs polling."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import services
from bench.report import Result, Target
from bench.scraping import HOMEWIZARD, get_json, scrape, value, wait_for_text, wait_for_value

PUSH_INTERVAL = 1.0
WINDOW = 20.0
PHASE_SERIES = "gridwatch_p1_phase_power_watts{"
UPDATES = "gridwatch_source_updates_total"
MAX_FIRST_SERIES_S = 5.0  # what the demo promises


@dataclass(frozen=True)
class Snapshot:
    at: float
    pushed: int
    push_updates: float
    poll_updates: float


async def _pushed(session: aiohttp.ClientSession, sim: services.Simulator) -> int:
    state = await get_json(session, sim.state_url)
    assert isinstance(state, dict)
    return int(state["measurements_pushed"])


async def _snapshot(
    session: aiohttp.ClientSession,
    sim: services.Simulator,
    push: services.Exporter,
    poll: services.Exporter,
) -> Snapshot:
    # Read the counters half-way between two pushes, so none is in flight while we read.
    start = await _pushed(session, sim)
    async with asyncio.timeout(5 * PUSH_INTERVAL):
        while True:  # the simulator is another process: poll its counter
            if await _pushed(session, sim) != start:
                break
            await asyncio.sleep(0.01)
    await asyncio.sleep(PUSH_INTERVAL / 2)
    pushed = await _pushed(session, sim)
    push_samples, poll_samples = await scrape(session, push.url), await scrape(session, poll.url)
    return Snapshot(
        at=time.perf_counter(),
        pushed=pushed,
        push_updates=value(push_samples, UPDATES, **HOMEWIZARD) or 0.0,
        poll_updates=value(poll_samples, UPDATES, **HOMEWIZARD) or 0.0,
    )


async def run(workdir: Path) -> Result:
    result = Result("push_capture", datetime.now(UTC).isoformat(timespec="seconds"))
    push_cfg, poll_cfg = workdir / "push.yml", workdir / "poll.yml"
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(services.simulator(push_interval=PUSH_INTERVAL))
        services.write_config(push_cfg, sim.v2_meter(push=True, interval="10s"))
        services.write_config(poll_cfg, sim.v2_meter(push=False, interval="10s"))
        session = await stack.enter_async_context(aiohttp.ClientSession())

        # One exporter at a time while starting, so each start-up time is measured on its own.
        push = await stack.enter_async_context(services.exporter("push-exporter", push_cfg))
        push_first = await wait_for_text(session, push.url, PHASE_SERIES, 30) - push.spawned_at
        poll = await stack.enter_async_context(services.exporter("poll-exporter", poll_cfg))
        poll_first = await wait_for_text(session, poll.url, PHASE_SERIES, 30) - poll.spawned_at
        await wait_for_value(session, push.url, "gridwatch_source_push_connected", 1.0, 30)

        before = await _snapshot(session, sim, push, poll)
        await asyncio.sleep(WINDOW)
        after = await _snapshot(session, sim, push, poll)
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
        "Start-up time runs from process creation (Python start and imports included) to the "
        "first /metrics body with gridwatch_p1_phase_power_watts, polled every 20 ms.",
    ]
    return result
