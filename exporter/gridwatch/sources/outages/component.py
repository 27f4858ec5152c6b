"""Planned outages' contribution to the exporter: the schedule source, its metrics, its API."""

from __future__ import annotations

from gridwatch.core.component import Component, Runtime
from gridwatch.sources.outages import OUTAGES
from gridwatch.sources.outages.api import outages_route
from gridwatch.sources.outages.metrics import OutageFamilies
from gridwatch.sources.outages.providers import PROVIDERS
from gridwatch.sources.outages.source import OutageSource
from gridwatch.sources.outages.tracker import ScheduleTracker


def component(runtime: Runtime) -> Component:
    config = OUTAGES.of(runtime.config)
    if config is None:
        return Component()
    provider = PROVIDERS[config.operator]
    tracker = ScheduleTracker(
        device=config.device,
        queue=config.queue,
        operator=provider.operator,
        tz=provider.tz,
        stale_after=config.stale_after,
        db=lambda: runtime.db,
    )
    source = OutageSource(config, tracker, runtime.store.now)
    return Component(
        sources=[source],
        builders=[OutageFamilies(config, source.key, tracker)],
        routes=[outages_route(runtime.store, source.key, tracker)],
    )
