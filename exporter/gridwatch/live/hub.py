"""``LiveHub``: snapshots of the live metrics, pushed to every open page when readings arrive.

A reading only marks the view dirty; one task builds at most one snapshot per ``min_interval``
and only while a page is open, so a 1 Hz meter costs one collector pass a second at most, and
nothing at all while nobody watches. A tick refreshes time-driven values (the price quarter,
staleness) when no reading comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.metrics_core import Metric

from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# The metric names (prefixes) the page shows: the public vocabulary of docs/metrics.md.
LIVE_METRICS = (
    "gridwatch_p1_power_watts",
    "gridwatch_p1_phase_",
    "gridwatch_p1_fuse_amperes",
    "gridwatch_p1_voltage_volts",
    "gridwatch_price_total_per_kwh",
    "gridwatch_price_spot_per_kwh",
    "gridwatch_price_slot_total_per_kwh",
    "gridwatch_price_slot_spot_per_kwh",
    "gridwatch_price_slot_start_timestamp_seconds",
    "gridwatch_energy_period_cost",
    "gridwatch_grid_up",
    "gridwatch_grid_last_change_timestamp_seconds",
    "gridwatch_inverter_battery_soc_ratio",
    "gridwatch_inverter_operating_mode",
    "gridwatch_inverter_output_power_watts",
    "gridwatch_inverter_pv_total_power_watts",
    "gridwatch_inverter_mains_voltage_volts",
    "gridwatch_battery_soc_ratio",
    "gridwatch_outage_battery_runtime_seconds",
    "gridwatch_outage_energy_needed_joules",
    "gridwatch_outage_battery_energy_joules",
    "gridwatch_outage_schedule_next_outage_",
    "gridwatch_outage_schedule_outage_active",
    "gridwatch_alert_phase_near_fuse_ratio",
)
TICK_SECONDS = 10.0

Collect = Callable[[], Iterable[Metric]]
Sample = tuple[dict[str, str], float]


def snapshot(collect: Collect, now: float) -> dict[str, Any]:
    """``{"now": t, "metrics": {sample name: [[labels, value], …]}}`` of the live metrics."""
    metrics: dict[str, list[Sample]] = {}
    for family in collect():
        if not family.name.startswith(LIVE_METRICS) and not any(
            p.startswith(family.name) for p in LIVE_METRICS
        ):
            continue
        for sample in family.samples:
            if sample.name.startswith(LIVE_METRICS) and sample.value == sample.value:  # not NaN
                metrics.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return {"now": now, "metrics": metrics}


class LiveHub:
    def __init__(self, store: StateStore, collect: Collect, min_interval: float = 0.5) -> None:
        self._store = store
        self._collect = collect
        self._min_interval = min_interval
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0  # snapshots sent (tests and benchmarks read it)
        store.observe_any(self._on_reading)

    def current(self) -> dict[str, Any]:
        return snapshot(self._collect, self._store.now())

    def subscribe(self) -> asyncio.Queue[str]:
        """A queue of JSON snapshots, the current one first; ``unsubscribe`` when the page goes."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=2)
        queue.put_nowait(json.dumps(self.current(), separators=(",", ":")))
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-hub")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._subscribers.discard(queue)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def _on_reading(self, key: SourceKey, reading: object) -> None:
        if self._subscribers:
            self._dirty.set()

    async def _run(self) -> None:
        while self._subscribers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), TICK_SECONDS)
            self._dirty.clear()
            self._publish()
            await asyncio.sleep(self._min_interval)  # coalesce bursts of readings
        self._task = None

    def _publish(self) -> None:
        try:
            data = json.dumps(self.current(), separators=(",", ":"))
        except Exception:  # a builder bug must not end the page's stream for good
            log.exception("live snapshot failed")
            return
        for queue in list(self._subscribers):
            if queue.full():  # a slow page skips to the newest snapshot
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(data)
        self.published += 1
