"""The inverter source for the Voltronic ASCII protocols (PI30, PI18, PI17) over serial, USB HID,
a transparent RS232-to-TCP bridge or the Eybond dongle. Its readings are the same
``InverterReading`` a Modbus map gives, so metrics, grid state and battery runtime do not know
which protocol answered.
"""

from __future__ import annotations

from gridwatch.core.clock import Clock, system_clock
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.polled import PolledInverter, PollObserver, eybond_settings
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.transports.eybond import EybondAsciiLink
from gridwatch.sources.inverter.transports.hid import HidLink
from gridwatch.sources.inverter.transports.link import AsciiLink
from gridwatch.sources.inverter.transports.serial import SerialLink
from gridwatch.sources.inverter.transports.tcp import TcpLink


def make_link(config: InverterConfig) -> AsciiLink:
    if config.transport == "hid":
        assert config.device is not None
        return HidLink(config.device, config.timeout)
    if config.transport == "eybond":
        return EybondAsciiLink(eybond_settings(config))
    if config.transport == "tcp":
        assert config.host is not None and config.port is not None
        return TcpLink(config.host, config.port, config.timeout, config.connect_timeout)
    assert config.device is not None
    return SerialLink(config.device, config.line_baudrate, config.timeout)


class AsciiInverterSource(PolledInverter):
    def __init__(
        self,
        config: InverterConfig,
        *,
        link: AsciiLink | None = None,
        on_poll: PollObserver | None = None,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(config, on_poll, clock)
        self.link = link or make_link(config)
        self.driver = AsciiDriver(
            FAMILIES[config.protocol], config.name, slow_interval=config.slow_interval, clock=clock
        )

    @property
    def poll_timeout(self) -> float:
        commands = 3 + len(self.driver.family.poll)  # identity may be asked in the same poll
        handshake = self.config.connect_timeout if self.config.transport in {"eybond", "tcp"} else 0
        return self.config.timeout * commands + handshake + 1.0

    async def close(self) -> None:
        await self.link.close()

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
