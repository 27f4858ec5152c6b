"""Inverters' contribution to the exporter: one source per inverter, grid state, families."""

from __future__ import annotations

import asyncio
import logging

from gridwatch.core.component import Component, Runtime
from gridwatch.core.source import SourceKey
from gridwatch.energy.grid import GridTracker
from gridwatch.energy.grid_metrics import GridFamilies
from gridwatch.sources.homewizard import METERS
from gridwatch.sources.homewizard.reading import P1Reading
from gridwatch.sources.inverter import GRID, INVERTERS
from gridwatch.sources.inverter.metrics import InverterFamilies
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.source import KIND, InverterSource

P1_KIND = "homewizard"
P1_WATCH_SECONDS = 1.0
log = logging.getLogger(__name__)


def p1_mains_present(reading: P1Reading, min_voltage: float) -> bool | None:
    """Mains seen by a P1 meter: any phase (or the single-phase total) at ≥ min_voltage."""
    volts = [p.voltage_v for p in reading.phases.values() if p.voltage_v is not None]
    if reading.voltage_v is not None:
        volts.append(reading.voltage_v)
    if not volts:
        return None  # this meter does not report voltages: it cannot tell
    return max(volts) >= min_voltage


def component(runtime: Runtime) -> Component:
    config = runtime.config
    grid = GRID.of(config)
    inverters = INVERTERS.of(config)
    if not inverters and not grid.p1_meters:
        return Component()
    tracker = GridTracker(
        grid.consecutive_polls,
        grid.combine,
        db=(lambda: runtime.db) if grid.persist else None,
    )
    names = {i.name for i in inverters}
    voters = set(grid.inverters) if grid.inverters is not None else names
    meters = {m.name for m in METERS.of(config)}
    for missing in sorted(voters - names) + sorted(set(grid.p1_meters) - meters):
        log.warning("grid: %r is not a configured inverter or meter; it never votes", missing)

    def on_poll(name: str, reading: InverterReading | None, at: float) -> None:
        if name not in voters:
            return
        if reading is None:
            tracker.fail(KIND, name)
        else:
            present = reading.mains_present(
                grid.min_voltage_volts, grid.min_frequency_hertz, grid.max_frequency_hertz
            )
            tracker.observe(KIND, name, present, at)

    for name in sorted(voters):
        tracker.add_signal(KIND, name)
    for meter in grid.p1_meters:
        tracker.add_signal(P1_KIND, meter)

    def on_p1(key: SourceKey, reading: object) -> None:
        if key.device in grid.p1_meters and isinstance(reading, P1Reading):
            present = p1_mains_present(reading, grid.min_voltage_volts)
            tracker.observe(P1_KIND, key.device, present, reading.received_at)

    async def watch_p1_meters() -> None:
        """A P1 meter that stopped answering is unknown, like a failed inverter poll. Checked
        here rather than at scrape time: a change of state writes the state file and logs."""
        while True:
            fresh = {key.device for key, _ in runtime.store.fresh_readings(P1_KIND)}
            for meter in grid.p1_meters:
                if meter not in fresh:
                    tracker.fail(P1_KIND, meter)
            await asyncio.sleep(P1_WATCH_SECONDS)

    tasks = []
    if grid.p1_meters:
        runtime.store.observe(P1_KIND, on_p1)
        tasks.append(watch_p1_meters)
    return Component(
        sources=[
            InverterSource(inv, on_poll=on_poll, clock=runtime.store.now) for inv in inverters
        ],
        builders=[InverterFamilies(inverters), GridFamilies(tracker)],
        tasks=tasks,
    )
