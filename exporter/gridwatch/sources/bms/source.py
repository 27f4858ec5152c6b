"""The battery source: every pack polled one after another, plus periodic rescans.

Bluetooth adapters handle parallel connections badly, so one task walks the packs in turn, each
with its own timeout, and reports each under its own key (``bms``/<pack name>): one failing pack
never delays the others by more than its timeout, and never marks them down. Rescans run between
rounds on the same task, for the same reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from gridwatch.core.source import SourceContext, SourceError, SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.bms.config import BatteriesConfig, BatteryDevice
from gridwatch.sources.bms.devices_file import (
    DevicesFileError,
    combine,
    load_devices,
    merge,
    save_devices,
)
from gridwatch.sources.bms.discovery import discover
from gridwatch.sources.bms.errors import classify
from gridwatch.sources.bms.poller import PackPoller

log = logging.getLogger(__name__)

SCAN_KIND = "bms_scan"


@dataclass(frozen=True, slots=True)
class ScanReading:
    received_at: float
    found: int  # BMS devices seen in this scan
    added: int  # of which new to the devices file


class BatteryFleet:
    """A Source whose own key reports rescans; pack keys are reported through the same ctx."""

    def __init__(self, config: BatteriesConfig, store: StateStore) -> None:
        self.config = config
        self.key = SourceKey(SCAN_KIND, "bluetooth")
        self.staleness = 3 * config.rescan_interval
        self._store = store
        self._skipped: set[str] = set()  # file entries shadowed by a configured name, warned once
        self.packs: dict[str, PackPoller] = {}
        for device in self._devices():
            self._add(device)
        if not self.packs and not self.rescans:
            log.warning(
                "batteries: no packs configured; list them under batteries.devices or run "
                "`gridwatch scan-bms --save` and set batteries.devices_file"
            )
        # Nothing to poll yet (a fresh devices file): look right away instead of in an hour.
        self._next_rescan = time.monotonic() + (config.rescan_interval if self.packs else 0)

    @property
    def rescans(self) -> bool:
        return self.config.rescan and self.config.devices_file is not None

    def _devices(self) -> list[BatteryDevice]:
        from_file: list[BatteryDevice] = []
        if self.config.devices_file is not None:
            try:
                from_file = load_devices(self.config.devices_file)
            except DevicesFileError as exc:  # the configured packs still work
                log.error("%s", exc)
        return self._combine(from_file)

    def _combine(self, from_file: list[BatteryDevice]) -> list[BatteryDevice]:
        """The packs to poll; says once why a file entry for another pack is not among them."""
        packs = combine(self.config.devices, from_file)
        known = {d.address for d in packs} | {d.address for d in self.config.devices}
        for device in from_file:
            if device.enabled and device.address not in known | self._skipped:
                self._skipped.add(device.address)
                log.warning(
                    "batteries: %s in %s is not polled: its name %r is taken by a pack in "
                    "batteries.devices; rename it in the devices file",
                    device.address,
                    self.config.devices_file,
                    device.name,
                )
        return packs

    def _add(self, device: BatteryDevice) -> None:
        poller = PackPoller(device, self.config, self._store.now)
        self.packs[device.name] = poller
        # Staleness grows with the number of packs: a round waits for each one's timeout.
        for existing in self.packs.values():
            self._store.register(existing.key, 0).staleness = self.config.staleness(len(self.packs))

    async def run(self, ctx: SourceContext) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                if self.rescans and time.monotonic() >= self._next_rescan:
                    await self.rescan(ctx)
                for poller in list(self.packs.values()):
                    await self._poll(ctx, poller)
                await asyncio.sleep(max(0.0, started + self.config.interval - loop.time()))
        finally:
            await asyncio.shield(self._close())

    async def _poll(self, ctx: SourceContext, poller: PackPoller) -> None:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.timeout):
                reading = await poller.poll()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes a reason; nothing stops the round
            error = poller.explain(exc)
            await poller.reset()
            ctx.failure(poller.key, error, time.perf_counter() - started)
        else:
            ctx.success(poller.key, reading, time.perf_counter() - started)

    async def rescan(self, ctx: SourceContext) -> list[BatteryDevice]:
        """Scan once; append new packs to the devices file and start polling them."""
        self._next_rescan = time.monotonic() + self.config.rescan_interval
        path = self.config.devices_file
        assert path is not None
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.scan_duration + self.config.timeout):
                found = await discover(self.config.scan_duration, self.config.adapter)
            existing = load_devices(path)
            merged, added = merge(existing, ((p.address, p.local_name, p.bms_type) for p in found))
            if added:
                save_devices(path, merged)
        except asyncio.CancelledError:
            raise
        except DevicesFileError as exc:
            ctx.failure(self.key, SourceError("payload", str(exc)), time.perf_counter() - started)
            return []
        except Exception as exc:
            ctx.failure(self.key, classify(exc), time.perf_counter() - started)
            return []
        for device in added:
            log.info("rescan found battery %s (%s, %s)", device.name, device.address, device.type)
        for device in self._combine(merged):
            if device.name not in self.packs:
                self._add(device)
        reading = ScanReading(self._store.now(), len(found), len(added))
        ctx.success(self.key, reading, time.perf_counter() - started)
        return added

    async def _close(self) -> None:
        """Leave no pack connected (BlueZ would keep the link, and a JK takes only one)."""
        for poller in self.packs.values():
            await poller.reset()
