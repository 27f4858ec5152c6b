"""A whole fake Bluetooth stack for one process: private D-Bus, fake BlueZ, the env to reach it.

While running, ``DBUS_SYSTEM_BUS_ADDRESS`` points at the private bus, so bleak (and anything
else in this process or its children) talks to the fake BlueZ instead of the host's; the
previous value is restored on close.
"""

from __future__ import annotations

import asyncio
import logging
import os
from types import TracebackType

from gridwatch.sim.bluez.bluetoothd import FakeBlueZ
from gridwatch.sim.bluez.dbus_daemon import PrivateBus

ENV = "DBUS_SYSTEM_BUS_ADDRESS"
# bleak's remarks that are true of every fake BlueZ and false alarms in the demo's output.
_BLEAK_LOGGERS = ("bleak.backends.bluezdbus.version", "bleak.backends.bluezdbus.manager")
_EXPECTED = ("bluetoothctl not available", "D-Bus connection to BlueZ was lost")


class _FakeNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in _EXPECTED)


class FakeBluetooth:
    """``async with FakeBluetooth() as bt: bt.bluez.add_pack(...)``.

    ``bluez=False`` gives a D-Bus without BlueZ; ``adapters=0`` a BlueZ without adapters.
    """

    def __init__(self, *, bluez: bool = True, adapters: int = 1, powered: bool = True) -> None:
        self._with_bluez = bluez
        self._adapters = adapters
        self._powered = powered
        self._bus = PrivateBus()
        self._bluez: FakeBlueZ | None = None
        self._saved_env: str | None = None
        self._noise = _FakeNoise()
        self.address = ""

    @property
    def bluez(self) -> FakeBlueZ:
        assert self._bluez is not None, "started without BlueZ"
        return self._bluez

    async def start(self) -> FakeBluetooth:
        try:
            return await self._start()
        except BaseException:  # cancelled or failed half-way: the bus must not stay behind
            await self.close()
            raise

    async def _start(self) -> FakeBluetooth:
        self.address = self._bus.start()
        for name in _BLEAK_LOGGERS:
            logging.getLogger(name).addFilter(self._noise)
        self._saved_env = os.environ.get(ENV)
        os.environ[ENV] = self.address
        if self._with_bluez:
            self._bluez = FakeBlueZ(self.address, adapters=self._adapters, powered=self._powered)
            await self._bluez.start()
        return self

    async def close(self) -> None:
        if self._bluez is not None:
            await self._bluez.close()
            self._bluez = None
        if self.address:
            if self._saved_env is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = self._saved_env
        self._bus.stop()
        self.address = ""
        await asyncio.sleep(0.05)  # bleak notices the bus going away on its next loop turns
        for name in _BLEAK_LOGGERS:
            logging.getLogger(name).removeFilter(self._noise)

    async def __aenter__(self) -> FakeBluetooth:
        return await self.start()

    async def __aexit__(
        self,
        typ: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
