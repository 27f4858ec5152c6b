"""State store: the latest reading per device and the health of every source.

Sources write here; the collector reads here. Everything runs on one asyncio loop, so plain
dicts are enough. Logging happens on state changes only, so a dead device logs once, not per poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from gridwatch.core.health import SourceHealth, Transition
from gridwatch.core.source import Reading, SourceError, SourceKey

log = logging.getLogger("gridwatch.sources")

ReadingObserver = Callable[[SourceKey, Any], None]


class StateStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._health: dict[SourceKey, SourceHealth] = {}
        self._readings: dict[SourceKey, Reading] = {}
        self._observers: dict[str, list[ReadingObserver]] = {}
        self._any: list[ReadingObserver] = []

    def register(self, key: SourceKey, staleness: float) -> SourceHealth:
        health = self._health.get(key)
        if health is None:
            health = self._health[key] = SourceHealth(key, staleness)
        return health

    def observe(self, source: str, observer: ReadingObserver) -> None:
        """Call ``observer`` with every reading of this source kind (e.g. peak tracking)."""
        self._observers.setdefault(source, []).append(observer)

    def observe_any(self, observer: ReadingObserver) -> None:
        """Call ``observer`` with every reading of every source (the live page's trigger)."""
        self._any.append(observer)

    def health(self) -> Iterator[SourceHealth]:
        return iter(self._health.values())

    def health_of(self, key: SourceKey) -> SourceHealth:
        return self._health[key]

    def now(self) -> float:
        return self._clock()

    # SourceContext -------------------------------------------------------------------------

    def success(self, key: SourceKey, reading: Reading, duration: float | None = None) -> None:
        health = self.register(key, 30.0)
        self._readings[key] = reading
        for observer in (*self._observers.get(key.source, ()), *self._any):
            observer(key, reading)
        if health.record_success(self._clock(), duration) is Transition.UP:
            log.info("source %s/%s is up", key.source, key.device)

    def failure(self, key: SourceKey, error: SourceError, duration: float | None = None) -> None:
        health = self.register(key, 30.0)
        if health.record_failure(self._clock(), error, duration) is Transition.DOWN:
            log.warning("source %s/%s is down: %s", key.source, key.device, error)

    def set_push_connected(self, key: SourceKey, connected: bool) -> None:
        health = self.register(key, 30.0)
        if health.push_connected != connected and (connected or health.push_connected):
            log.info(
                "source %s/%s push stream %s",
                key.source,
                key.device,
                "connected" if connected else "disconnected",
            )
        health.push_connected = connected

    # Reading side --------------------------------------------------------------------------

    def fresh_readings(
        self, source: str | None = None, now: float | None = None
    ) -> Iterator[tuple[SourceKey, Reading]]:
        """Every fresh reading, optionally of one source kind; for derived values across sources."""
        at = now if now is not None else self._clock()
        for key in list(self._readings):
            if source is None or key.source == source:
                reading = self.fresh(key, at)
                if reading is not None:
                    yield key, reading

    def fresh(self, key: SourceKey, now: float | None = None) -> Reading | None:
        """The latest reading if it is younger than the source's staleness window."""
        reading = self._readings.get(key)
        if reading is None:
            return None
        health = self._health.get(key)
        staleness = health.staleness if health else 30.0
        if (now if now is not None else self._clock()) - reading.received_at > staleness:
            return None
        return reading
