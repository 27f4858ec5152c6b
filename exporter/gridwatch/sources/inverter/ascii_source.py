"""The inverter source for the Voltronic ASCII protocols (PI30, PI18) over serial, USB HID or the
Eybond dongle. Its readings are the same ``InverterReading`` a Modbus map gives, so metrics,
grid state and battery runtime do not know which protocol answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceKey, poll_forever
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.eybond import EybondSettings
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.transports.eybond import EybondAsciiLink
from gridwatch.sources.inverter.transports.hid import HidLink
from gridwatch.sources.inverter.transports.link import AsciiLink
from gridwatch.sources.inverter.transports.serial import SerialLink

KIND = "inverter"
PollObserver = Callable[[str, InverterReading | None, float], None]


def make_link(config: InverterConfig) -> AsciiLink:
    if config.transport == "hid":
        assert config.device is not None
        return HidLink(config.device, config.timeout)
    if config.transport == "eybond":
        assert config.host is not None
        return EybondAsciiLink(
            EybondSettings(
                dongle_host=config.host,
                dongle_port=config.dongle_port,
                listen_host=config.listen_host,
                listen_port=config.listen_port,
                advertise_host=config.advertise_host,
                timeout=config.timeout,
                connect_timeout=config.connect_timeout,
                idle_timeout=30.0,
            )
        )
    assert config.device is not None
    return SerialLink(config.device, config.line_baudrate, config.timeout)


class AsciiInverterSource:
    def __init__(
        self,
        config: InverterConfig,
        *,
        link: AsciiLink | None = None,
        on_poll: PollObserver | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.config = config
        self.key = SourceKey(KIND, config.name)
        self.staleness = config.staleness
        self.link = link or make_link(config)
        self.driver = AsciiDriver(
            FAMILIES[config.protocol], config.name, config.settings_every_polls
        )
        self._on_poll = on_poll
        self._clock = clock

    @property
    def poll_timeout(self) -> float:
        commands = 3 + len(self.driver.family.poll)  # identity may be asked in the same poll
        handshake = self.config.connect_timeout if self.config.transport == "eybond" else 0.0
        return self.config.timeout * commands + handshake + 1.0

    async def run(self, ctx: SourceContext) -> None:
        try:
            await poll_forever(ctx, self.key, self.poll, self.config.interval, self.poll_timeout)
        finally:
            await asyncio.shield(self.link.close())

    async def poll(self) -> InverterReading:
        try:
            values = await self.driver.poll(self.link)
        except BaseException:
            # A unit swapped or restarted behind the same port identifies itself again.
            self.driver.forget_identity()
            self._report(None)
            raise
        reading = InverterReading(
            received_at=self._clock(),
            model=self.driver.family.name,
            values=tuple(values),
            battery_capacity_wh=self.config.battery_capacity_wh,
        )
        self._report(reading)
        return reading

    def _report(self, reading: InverterReading | None) -> None:
        if self._on_poll is not None:
            self._on_poll(self.config.name, reading, self._clock())
