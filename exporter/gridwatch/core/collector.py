"""The one custom collector: on every scrape it builds fresh metric families from memory.

No I/O happens here; sources keep the state store current in the background.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from gridwatch.core.families.health import build_info, source_health
from gridwatch.core.state import StateStore

FamilyBuilder = Callable[[StateStore, float], Iterable[Metric]]


class GridwatchCollector(Collector):
    def __init__(self, store: StateStore, builders: Iterable[FamilyBuilder] = ()) -> None:
        self._store = store
        self._builders = list(builders)

    def collect(self) -> Iterator[Metric]:
        now = self._store.now()
        yield from build_info()
        yield from source_health(self._store, now)
        for builder in self._builders:
            yield from builder(self._store, now)

    def describe(self) -> Iterator[Metric]:
        # Describing would run collect() at registration and consume peak windows.
        return iter(())
