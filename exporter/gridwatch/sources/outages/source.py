"""The outage source: checks the queue against the operator's list, then polls its schedule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import aiohttp

from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from gridwatch.sources.outages.config import OutagesConfig
from gridwatch.sources.outages.providers import (
    PROVIDERS,
    OutageProvider,
    ProviderFactory,
    default_max_age,
)
from gridwatch.sources.outages.schedule import DaySchedule, DayStatus, Schedule
from gridwatch.sources.outages.tracker import ScheduleTracker

KIND = "outages"
QUEUE_LIST_MAX_AGE = 24 * 3600.0  # queue lists drift rarely; one extra request a day


class OutageSource:
    def __init__(
        self,
        config: OutagesConfig,
        tracker: ScheduleTracker,
        clock: Callable[[], float],
        factory: ProviderFactory | None = None,
    ) -> None:
        self.config = config
        self.key = SourceKey(KIND, config.device)
        self.staleness = config.stale_after
        self.tracker = tracker
        self._clock = clock
        self._factory = factory or PROVIDERS[config.operator]
        self._queues: frozenset[str] | None = None
        self._queues_at = 0.0
        self._max_age = config.data_max_age
        if self._max_age is None and config.operator in PROVIDERS:
            self._max_age = default_max_age(config.operator)

    async def run(self, ctx: SourceContext) -> None:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            provider = self._factory(session, self.config.url)

            async def poll() -> Schedule:
                return await self.poll(provider)

            # Two requests at most per poll (queue list, schedule), each with its own timeout.
            await poll_forever(
                ctx, self.key, poll, self.config.interval, 2 * self.config.timeout + 1
            )

    async def poll(self, provider: OutageProvider) -> Schedule:
        queue = self.config.queue
        if self._queues is None or self._clock() - self._queues_at > QUEUE_LIST_MAX_AGE:
            self._queues = await provider.queues()
            self._queues_at = self._clock()
        if queue not in self._queues:
            known = ", ".join(sorted(self._queues))
            self._queues = None  # ask again next poll: the list may have been mid-update
            raise SourceError(
                "unknown_queue",
                f"queue {queue!r} is not in {provider.operator}'s queue list ({known}); "
                "check outages.queue",
            )
        days = expire(await provider.schedule(queue), self._clock(), self._max_age)
        schedule = Schedule(self._clock(), queue, provider.operator, provider.tz, days)
        schedule = self.tracker.carry_over(schedule)
        self.tracker.update(schedule)
        return schedule


def expire(
    days: Mapping[date, DaySchedule], now: float, max_age: float | None
) -> dict[date, DaySchedule]:
    """Days whose data is older than ``max_age`` become ``no_data``: a mirror that stopped
    updating still serves yesterday's plan, which is not a schedule any more."""
    if max_age is None:
        return dict(days)
    result = {}
    for day, entry in days.items():
        if entry.data_at is not None and now - entry.data_at > max_age:
            result[day] = DaySchedule(
                day, (), entry.approved_at, status=DayStatus.NO_DATA, data_at=entry.data_at
            )
        else:
            result[day] = entry
    return result
