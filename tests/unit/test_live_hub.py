"""LiveHub: only the live metrics, one snapshot for a burst of readings, nothing while no page
is open (no polling storm, no work for nobody)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.live.hub import LiveHub, snapshot
from gridwatch.sim.polling import wait_until

KEY = SourceKey("homewizard", "home")


@dataclass(frozen=True)
class Tick:
    received_at: float


class Families:
    def __init__(self) -> None:
        self.passes = 0

    def __call__(self) -> Iterator[Metric]:
        self.passes += 1
        current = GaugeMetricFamily("gridwatch_p1_phase_current_amperes", "", labels=["phase"])
        current.add_metric(["l1"], 7.5)
        yield current
        yield GaugeMetricFamily("gridwatch_source_up", "", value=1)  # not on the page
        yield GaugeMetricFamily("gridwatch_grid_up", "", value=float("nan"))  # unknown: left out


def test_snapshot_holds_the_live_metrics_only() -> None:
    data = snapshot(Families(), 1000.0)
    assert data == {
        "now": 1000.0,
        "metrics": {"gridwatch_p1_phase_current_amperes": [({"phase": "l1"}, 7.5)]},
    }


async def test_readings_without_a_page_cost_nothing_and_a_burst_is_one_update() -> None:
    store = StateStore(lambda: 1000.0)
    families = Families()
    hub = LiveHub(store, families, min_interval=0.05)
    for _ in range(100):
        store.success(KEY, Tick(1000.0))
    await asyncio.sleep(0.1)
    assert families.passes == 0 and hub.published == 0  # nobody watches: no collector pass

    queue = hub.subscribe()
    first = json.loads(queue.get_nowait())
    assert first["metrics"]["gridwatch_p1_phase_current_amperes"] == [[{"phase": "l1"}, 7.5]]
    for _ in range(100):
        store.success(KEY, Tick(1000.0))
    await wait_until(lambda: hub.published >= 1, what="the update")
    await asyncio.sleep(0.2)  # the hub's coalescing pause and a tick's worth of quiet
    assert hub.published == 1  # a hundred readings, one snapshot
    assert queue.qsize() == 1
    hub.unsubscribe(queue)
    await hub.stop()
