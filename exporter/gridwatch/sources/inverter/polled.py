"""What the Modbus and the ASCII inverter sources share: the poll loop that closes the link when
it ends, the observer told after every poll, and the Eybond dongle settings from the config."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from gridwatch.core.clock import Clock
from gridwatch.core.source import SourceContext, SourceKey, poll_forever
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.eybond import EybondSettings
from gridwatch.sources.inverter.reading import InverterReading

KIND = "inverter"
# Called after every poll: the reading, or None when the poll failed.
PollObserver = Callable[[str, InverterReading | None, float], None]


def eybond_settings(config: InverterConfig, **extra: Any) -> EybondSettings:
    assert config.host is not None
    return EybondSettings(
        dongle_host=config.host,
        dongle_port=config.dongle_port,
        listen_host=config.listen_host,
        listen_port=config.listen_port,
        advertise_host=config.advertise_host,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        # Reused across polls; after 30 s of silence a dongle may no longer answer on it, so a
        # longer pause starts with a fresh handshake (as easunpy does).
        idle_timeout=30.0,
        **extra,
    )


class PolledInverter(ABC):
    def __init__(self, config: InverterConfig, on_poll: PollObserver | None, clock: Clock) -> None:
        self.config = config
        self.key = SourceKey(KIND, config.name)
        self.staleness = config.staleness
        self._on_poll = on_poll
        self._clock = clock

    @property
    @abstractmethod
    def poll_timeout(self) -> float: ...

    @abstractmethod
    async def poll(self) -> InverterReading: ...

    @abstractmethod
    async def close(self) -> None:
        """Release the port or connection (the next poll opens it again)."""

    async def run(self, ctx: SourceContext) -> None:
        try:
            await poll_forever(ctx, self.key, self.poll, self.config.interval, self.poll_timeout)
        finally:
            await asyncio.shield(self.close())

    def _report(self, reading: InverterReading | None) -> None:
        if self._on_poll is not None:
            self._on_poll(self.config.name, reading, self._clock())
