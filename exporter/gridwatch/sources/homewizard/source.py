"""The HomeWizard P1 source: v2 WebSocket push when possible, polling otherwise and meanwhile."""

from __future__ import annotations

import asyncio
import logging
import random
from zoneinfo import ZoneInfo

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from gridwatch.sources.homewizard import push
from gridwatch.sources.homewizard.client import HomeWizardClient, connected
from gridwatch.sources.homewizard.config import HomeWizardMeter
from gridwatch.sources.homewizard.parse import PayloadError, parse_measurement
from gridwatch.sources.homewizard.reading import DeviceInfo, P1Reading

log = logging.getLogger(__name__)

KIND = "homewizard"
# Failures of the push stream that polling would not notice on its own; plain disconnects are
# not reported because polling takes over and says whether the device is reachable.
_PUSH_REPORTED = {"unauthorized", "tls", "payload", "protocol"}


class HomeWizardSource:
    push_backoff_initial = 1.0
    push_backoff_max = 30.0

    def __init__(
        self, meter: HomeWizardMeter, tz: ZoneInfo, *, clock: Clock = system_clock
    ) -> None:
        self.meter = meter
        self._clock = clock
        self.key = SourceKey(KIND, meter.name)
        self.staleness = meter.staleness
        self.api = "v2" if meter.uses_v2 else "v1"
        self.device: DeviceInfo | None = None
        self._tz = tz
        self._token = meter.resolved_token()
        self._push_live = False

    @property
    def uses_push(self) -> bool:
        return self.api == "v2" and self.meter.push and bool(self._token)

    async def run(self, ctx: SourceContext) -> None:
        async with connected(self.meter) as client, asyncio.TaskGroup() as tasks:
            tasks.create_task(self._poll_loop(ctx, client))
            if self.uses_push:
                tasks.create_task(self._push_loop(ctx, client))

    async def _poll_loop(self, ctx: SourceContext, client: HomeWizardClient) -> None:
        async def poll() -> P1Reading:
            try:
                if self.device is None:
                    self.device = await client.device_info()
                payload = await client.measurement()
            except SourceError:
                self.device = None  # ask again after a failure: firmware may have changed
                raise
            return self._parse(payload, "poll")

        await poll_forever(
            ctx,
            self.key,
            poll,
            self.meter.interval,
            self.meter.timeout,
            should_poll=lambda: not self._push_live,
        )

    def _parse(self, payload: object, transport: str) -> P1Reading:
        try:
            return parse_measurement(
                payload, api=self.api, received_at=self._clock(), transport=transport, tz=self._tz
            )
        except PayloadError as exc:
            raise SourceError("payload", f"malformed measurement: {exc}") from None

    async def _push_loop(self, ctx: SourceContext, client: HomeWizardClient) -> None:
        assert self._token is not None
        backoff = self.push_backoff_initial
        # The meter sends at least every ~10 s (Swedish HAN) or 1 s (DSMR 5); silence means trouble.
        idle_timeout = max(3 * self.meter.interval, 30.0)

        def on_subscribed() -> None:
            self._push_live = True
            ctx.set_push_connected(self.key, True)

        def on_measurement(payload: object) -> None:
            nonlocal backoff
            backoff = self.push_backoff_initial
            try:
                ctx.success(self.key, self._parse(payload, "push"))
            except SourceError as exc:
                ctx.failure(self.key, exc)

        ctx.set_push_connected(self.key, False)
        while True:
            try:
                if self.device is None:
                    self.device = await client.device_info()
                await push.stream(
                    client, self._token, on_measurement, on_subscribed, idle_timeout=idle_timeout
                )
            except SourceError as exc:
                if exc.reason in _PUSH_REPORTED:
                    ctx.failure(self.key, exc)
                log.debug("push stream of %s ended: %s", self.meter.name, exc)
            finally:
                if self._push_live:
                    self._push_live = False
                    ctx.set_push_connected(self.key, False)
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, self.push_backoff_max)
