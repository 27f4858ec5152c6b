"""Polls one thermometer over HTTP."""

from __future__ import annotations

import aiohttp

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from tests.areas.thermometer.config import ThermometerConfig
from tests.areas.thermometer.reading import TemperatureReading

KIND = "thermometer"
SENSOR_FAULT = 85.0


class ThermometerSource:
    def __init__(self, config: ThermometerConfig, *, clock: Clock = system_clock) -> None:
        self.config = config
        self._clock = clock
        self.key = SourceKey(KIND, config.name)
        self.staleness = config.staleness

    async def run(self, ctx: SourceContext) -> None:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def poll() -> TemperatureReading:
                try:
                    async with session.get(f"{self.config.url}/temperature") as response:
                        if response.status != 200:
                            raise SourceError("http_error", f"HTTP {response.status}")
                        body = await response.json()
                except aiohttp.ClientError as exc:
                    raise SourceError("connection", str(exc)) from None
                try:
                    celsius = float(body["celsius"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise SourceError("payload", f"not a temperature: {exc}") from None
                if celsius == SENSOR_FAULT:  # what these sensors send when the probe is cut
                    raise SourceError("sensor_fault", "the probe reads 85 °C: disconnected")
                return TemperatureReading(self._clock(), celsius)

            await poll_forever(ctx, self.key, poll, self.config.interval, self.config.timeout)
