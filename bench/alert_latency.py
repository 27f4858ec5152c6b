"""alert_latency: from the simulated grid loss to the last plug reported off and the message sent.

The whole path runs with the real binaries on loopback (gridwatch.sim.alert_stack): simulated
inverter → exporter (debounce) → Prometheus (scrape, GridDown rule) → Alertmanager (grid route)
→ receiver → tuyamock plugs and the fake Telegram Bot API. Measured with the timings a user gets
from the shipped prometheus.yml, alertmanager.yml and the documented inverter settings
(``SHIPPED``), and, beside it, with the fast timings the end-to-end tests use, so the cost of each
stage is visible. Each run also measures the way back (grid restored → plugs on, staggered).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Result, Target
from gridwatch.sim.alert_stack import SHIPPED, AlertStack, Timings
from gridwatch.sim.polling import wait_until

RUNS = 8
# Each run starts at a random point of the poll and scrape cycles: runs back to back would
# otherwise lock onto one phase of them and measure the same latency every time.
START_JITTER_S = 5.0
TARGET_MEDIAN_S = 10.0


async def _until(predicate: Callable[[], bool], timeout: float = 120.0) -> float:
    return await wait_until(predicate, what="the alert path", timeout=timeout, every=0.02)


async def _one_run(stack: AlertStack, sent_before: int) -> tuple[float, float, float]:
    """(seconds to last plug off, to message sent, to everything restored)."""
    started = time.monotonic()
    stack.grid(False)
    off = await _until(lambda: all(v is False for v in stack.plug_states().values()))
    sent = await _until(lambda: len(stack.messages()) >= sent_before + 1)
    back = time.monotonic()
    stack.grid(True)
    await _until(lambda: all(v is True for v in stack.plug_states().values()))
    restored = await _until(lambda: len(stack.messages()) >= sent_before + 2)
    return off - started, sent - started, restored - back


async def _series(workdir: Path, timings: Timings) -> list[tuple[float, float, float]]:
    runs = []
    rng = random.Random(7)
    async with AlertStack(workdir, timings=timings) as stack:
        await asyncio.sleep(12)  # Prometheus has scraped grid up a few times
        for _ in range(RUNS):
            await asyncio.sleep(2 + rng.uniform(0, START_JITTER_S))
            runs.append(await _one_run(stack, len(stack.messages())))
    return runs


async def run(workdir: Path) -> Result:
    result = Result("alert_latency", datetime.now(UTC).isoformat(timespec="seconds"))
    shipped = await _series(workdir / "shipped", SHIPPED)
    fast = await _series(workdir / "fast", Timings())
    for name, runs in (("shipped", shipped), ("fast", fast)):
        worst_of = [max(off, sent) for off, sent, _ in runs]
        result.measure(
            f"{name}_median_s",
            f"{name} timings: grid loss → plugs off and message, median of {RUNS}",
            statistics.median(worst_of),
            "s",
        )
        result.measure(
            f"{name}_worst_s",
            f"{name} timings: grid loss → plugs off and message, worst",
            max(worst_of),
            "s",
        )
        result.measure(
            f"{name}_restore_median_s",
            f"{name} timings: grid back → all plugs on (staggered) and message, median",
            statistics.median(r for _, _, r in runs),
            "s",
        )
    result.targets.append(
        Target(
            "shipped_median_s",
            "grid loss → last plug off and message sent, shipped timings, median",
            statistics.median(max(off, sent) for off, sent, _ in shipped),
            "<=",
            TARGET_MEDIAN_S,
            "s",
        )
    )
    result.notes.append(
        "shipped: inverter every 2 s with the default grid.consecutive_polls 3, gridwatch job "
        "scraped every 5 s, grid rule group evaluated every 1 s, grid route group_wait 0s / "
        "group_interval 2s, 3 s stagger; fast: 0.5 s polls, 2 polls, 1 s scrape and "
        "evaluation, 1 s group_interval, 0.3 s stagger."
    )
    return result
