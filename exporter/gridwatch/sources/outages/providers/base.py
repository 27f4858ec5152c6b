"""The interface every outage operator module implements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import ClassVar, Protocol
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.outages.schedule import DaySchedule, ScheduleFormatError


class OutageProvider(Protocol):
    """Talks to one operator. Failures are raised as ``SourceError`` (reasons from core.source)."""

    operator: ClassVar[str]  # label value, e.g. "prykarpattyaoblenergo"
    tz: ClassVar[ZoneInfo]  # the zone the operator's wall-clock times are in

    async def queues(self) -> frozenset[str]:
        """Every queue code the operator knows (to validate the configured one)."""
        ...

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        """The published days of ``queue``; a day that is not published is absent."""
        ...


class ProviderFactory(Protocol):
    """What ``PROVIDERS`` holds: a provider class (class attributes and constructor)."""

    @property
    def operator(self) -> str: ...

    @property
    def tz(self) -> ZoneInfo: ...

    def __call__(self, session: aiohttp.ClientSession, base_url: str | None) -> OutageProvider: ...


@contextmanager
def malformed(what: str) -> Iterator[None]:
    """An answer the parser inside rejects is a bad payload: the source goes down with
    ``malformed <what>: <why>`` as its reason."""
    try:
        yield
    except ScheduleFormatError as exc:
        raise SourceError("payload", f"malformed {what}: {exc}") from None
