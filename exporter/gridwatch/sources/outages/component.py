"""Planned outages' contribution to the exporter: one schedule source per queue, their metrics
(merged into one family per name), and the JSON API."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from gridwatch.core.component import Component, Runtime
from gridwatch.core.state import StateStore
from gridwatch.sources.outages import outage_queues
from gridwatch.sources.outages.api import QueueView, outages_route
from gridwatch.sources.outages.metrics import OutageFamilies
from gridwatch.sources.outages.providers import PROVIDERS
from gridwatch.sources.outages.source import OutageSource
from gridwatch.sources.outages.tracker import ScheduleTracker


class MergedFamilies:
    """Several queues' builders as one: a family name appears once, with every queue's samples."""

    def __init__(self, builders: list[OutageFamilies]) -> None:
        self._builders = builders

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for builder in self._builders:
            for family in builder(store, now):
                if family.name in merged:
                    merged[family.name].samples.extend(family.samples)
                else:
                    merged[family.name] = family
        yield from merged.values()


def component(runtime: Runtime) -> Component:
    configs = outage_queues(runtime.config)
    if not configs:
        return Component()
    sources, builders, views = [], [], []
    for config in configs:
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
        sources.append(source)
        builders.append(OutageFamilies(config, source.key, tracker))
        views.append(QueueView(source.key, tracker))
    return Component(
        sources=list(sources),
        builders=[MergedFamilies(builders)],
        routes=[outages_route(runtime.store, views)],
    )
