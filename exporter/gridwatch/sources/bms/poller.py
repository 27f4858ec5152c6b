"""One pack: find it, connect through aiobmsble, read a sample, explain failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiobmsble import BMSConfig  # type: ignore[import-untyped]
from aiobmsble.basebms import BaseBMS  # type: ignore[import-untyped]

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceError, SourceKey
from gridwatch.sources.bms.config import BatteriesConfig, BatteryDevice
from gridwatch.sources.bms.discovery import bms_class, find_device
from gridwatch.sources.bms.errors import classify
from gridwatch.sources.bms.plausible import check_plausible
from gridwatch.sources.bms.reading import PackReading, from_sample
from gridwatch.sources.bms.wirelog import WireLog

log = logging.getLogger(__name__)

KIND = "bms"
DISCONNECT_TIMEOUT = 5.0
INFO_KEYS = ("model", "hw_version", "sw_version", "fw_version", "manufacturer")


class PackPoller:
    def __init__(
        self, device: BatteryDevice, config: BatteriesConfig, clock: Clock = system_clock
    ) -> None:
        self.device = device
        self._clock = clock
        self.key = SourceKey(KIND, device.name)
        self._config = config
        self._bms: BaseBMS | None = None
        self._info: dict[str, str] | None = None
        self.wire = WireLog(device.name)

    async def poll(self) -> PackReading:
        """One reading; raises whatever the stack raises (``explain`` turns it into a reason)."""
        self.wire.begin()
        if self._bms is None:
            ble_device = await find_device(
                self.device.address, self._config.scan_timeout, self._config.adapter
            )
            cls = await bms_class(self.device.type)
            self._bms = cls(
                ble_device,
                BMSConfig(keep_alive=self._config.keep_alive),
                logger_name=self.wire.logger_name,
            )
        sample = await self._bms.async_update()
        received_at = self._clock()
        if self._info is None:  # once per connection setup; without keep_alive it reconnects
            self._info = await self._device_info(self._bms)
        return check_plausible(from_sample(dict(sample), received_at, self.device.type, self._info))

    async def _device_info(self, bms: BaseBMS) -> dict[str, str]:
        """Model and firmware for the info metric; optional, so a failure here is not one."""
        try:
            async with asyncio.timeout(self._config.timeout / 2):
                info: dict[str, Any] = dict(await bms.device_info())
        except Exception as exc:  # the sample is good; asked again after the next failure
            log.debug("device info of %s unavailable: %r", self.device.name, exc)
            return {}
        return {k: str(v) for k, v in info.items() if k in INFO_KEYS and v}

    def explain(self, exc: BaseException) -> SourceError:
        return classify(exc, self.wire, self._config.timeout)

    async def reset(self) -> None:
        """Drop the connection after a failure so the next poll starts from a fresh scan."""
        bms, self._bms = self._bms, None
        self._info = None
        if bms is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(DISCONNECT_TIMEOUT):
                    await bms.disconnect()
