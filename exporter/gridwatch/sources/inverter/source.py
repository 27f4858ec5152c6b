"""The inverter source: read every planned range of the map, decode, judge, report."""

from __future__ import annotations

import logging

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.eybond import EybondTransport
from gridwatch.sources.inverter.modbus import ModbusSettings, PymodbusTransport
from gridwatch.sources.inverter.plausible import looks_like_nonsense, unexpected_unit
from gridwatch.sources.inverter.polled import KIND, PolledInverter, PollObserver, eybond_settings
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import (
    ReadRange,
    RegisterMap,
    load_file,
    load_shipped,
    models_expecting,
    related_models,
    shipped_models,
)
from gridwatch.sources.inverter.solarman import SolarmanSettings, SolarmanTransport
from gridwatch.sources.inverter.transport import ILLEGAL_ADDRESS, ModbusExceptionError, Transport

log = logging.getLogger(__name__)
__all__ = ["KIND", "InverterSource", "PollObserver", "load_map", "make_transport"]


def load_map(config: InverterConfig) -> RegisterMap:
    return load_file(config.model_file) if config.model_file else load_shipped(config.model)


def make_transport(config: InverterConfig, regmap: RegisterMap) -> Transport:
    function = config.function or regmap.function
    if config.transport == "eybond":
        return EybondTransport(eybond_settings(config, unit=config.unit, function=function))
    if config.transport == "hid":
        raise ValueError("USB HID carries the ASCII protocols only")  # refused by the config
    if config.transport == "solarman":
        assert config.host is not None and config.logger_serial is not None
        return SolarmanTransport(
            SolarmanSettings(
                host=config.host,
                logger_serial=config.logger_serial,
                port=config.port or 8899,
                unit=config.unit,
                function=function,
                timeout=config.timeout,
                connect_timeout=config.connect_timeout,
            )
        )
    return PymodbusTransport(
        ModbusSettings(
            framing=config.transport,
            host=config.host,
            port=config.port or 502,
            device=config.device,
            baudrate=config.line_baudrate,
            parity=config.parity,
            stopbits=config.stopbits,
            unit=config.unit,
            function=function,
            timeout=config.timeout,
            retries=config.retries,
        )
    )


class InverterSource(PolledInverter):
    def __init__(
        self,
        config: InverterConfig,
        *,
        regmap: RegisterMap | None = None,
        transport: Transport | None = None,
        on_poll: PollObserver | None = None,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(config, on_poll, clock)
        self.regmap = regmap or load_map(config)
        self.transport = transport or make_transport(config, self.regmap)
        self._unsupported: set[ReadRange] = set()
        # The last words of the slow ranges and when they were read (None: never).
        self._slow_words: dict[int, int] = {}
        self._slow_read_at: float | None = None

    @property
    def poll_timeout(self) -> float:
        """Overall limit of one poll: every request may use its own timeout, plus the handshake."""
        attempts = 1 + (self.config.retries if self.config.transport != "eybond" else 0)
        handshake = (
            self.config.connect_timeout if self.config.transport in {"eybond", "solarman"} else 0.0
        )
        return self.config.timeout * attempts * len(self.regmap.ranges) + handshake + 1.0

    async def close(self) -> None:
        await self.transport.close()

    async def poll(self) -> InverterReading:
        try:
            reading = await self._read()
        except BaseException:
            # Whatever ended the poll (a device fault, the overall timeout, a bug the scheduler
            # will log), the grid signal must turn unknown rather than keep its last state.
            self._report(None)
            raise
        self._report(reading)
        return reading

    def _due(self) -> list[ReadRange]:
        """The ranges this poll reads: the fast ones always, the slow ones when they are due."""
        at = self._clock()
        if self._slow_read_at is None or at - self._slow_read_at >= self.config.slow_interval:
            return self.regmap.ranges
        return self.regmap.fast_ranges

    async def _read(self) -> InverterReading:
        words: dict[int, int] = {}
        missing: list[tuple[ReadRange, ModbusExceptionError]] = []
        due = self._due()
        for rng in due:
            if rng in self._unsupported:
                continue
            try:
                values = await self.transport.read(rng.start, rng.count)
            except ModbusExceptionError as exc:
                if exc.code != ILLEGAL_ADDRESS:
                    raise
                missing.append((rng, exc))
                continue
            words.update(zip(range(rng.start, rng.end), values, strict=True))
        if missing and not words:
            raise missing[0][1]  # nothing answered: the poll fails
        if len(due) > len(self.regmap.fast_ranges):
            slow = {a for rng in self.regmap.slow_ranges for a in range(rng.start, rng.end)}
            self._slow_words = {a: w for a, w in words.items() if a in slow}
            self._slow_read_at = self._clock()
        words = self._slow_words | words
        for rng, _exc in missing:
            # This unit lacks some registers of the map (firmware variants do): read the rest
            # from now on, and say so once.
            self._unsupported.add(rng)
            log.warning(
                "inverter %s: registers %d..%d answer 'illegal data address'; skipping them "
                "(a model_file without them silences this)",
                self.config.name,
                rng.start,
                rng.end - 1,
            )
        decoded = self.regmap.decode_available(words)
        if (odd := unexpected_unit(self.regmap.spec, decoded)) is not None:
            fits = models_expecting(self.regmap.spec.family, odd.spec.name, odd.raw)
            use = f"use model: {' or '.join(fits)}" if fits else "use model_file with your own map"
            raise SourceError(
                "bad_model",
                f"the inverter reports {odd.spec.name} {odd.raw} ({odd.state}), which register "
                f"map {self.regmap.model!r} is not for (its scales would be wrong); {use}",
            )
        if (why := looks_like_nonsense(decoded)) is not None:
            others = related_models(self.regmap.model, self.regmap.spec.family) or [
                m for m in shipped_models() if m != self.regmap.model
            ]
            raise SourceError(
                "bad_model",
                f"register map {self.regmap.model!r} reads nonsense from this inverter ({why}); "
                f"it probably needs another model: try {' or '.join(others)}, or model_file "
                "with your own map (docs/inverter.md, 'Choosing the model')",
            )
        return InverterReading(
            received_at=self._clock(),
            model=self.regmap.model,
            values=decoded,
            battery_capacity_wh=self.config.battery_capacity_wh,
        )
