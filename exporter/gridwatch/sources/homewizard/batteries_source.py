"""The Plug-In Battery group a P1 meter controls: ``GET /api/batteries`` over API v2.

A source of its own beside the meter's, so that firmware without the endpoint (404) or a bad
payload marks only the battery group down, never the grid meter; and it keeps polling while the
meter's measurements arrive by WebSocket push, which carries no battery state.
"""

from __future__ import annotations

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from gridwatch.sources.homewizard.client import HomeWizardClient, connected
from gridwatch.sources.homewizard.config import HomeWizardMeter
from gridwatch.sources.homewizard.device_parse import parse_batteries
from gridwatch.sources.homewizard.device_reading import BatteriesReading
from gridwatch.sources.homewizard.parse import PayloadError

BATTERIES_KIND = "homewizard_batteries"


class P1BatteriesSource:
    def __init__(self, meter: HomeWizardMeter, *, clock: Clock = system_clock) -> None:
        self.meter = meter
        self._clock = clock
        self.key = SourceKey(BATTERIES_KIND, meter.name)
        self.staleness = meter.staleness
        self._identified = False

    async def run(self, ctx: SourceContext) -> None:
        async with connected(self.meter) as client:

            async def poll() -> BatteriesReading:
                try:
                    return await self.read(client)
                except SourceError:
                    self._identified = False  # ask GET /api again: the device may differ
                    raise

            await poll_forever(ctx, self.key, poll, self.meter.interval, self.meter.timeout)

    async def read(self, client: HomeWizardClient) -> BatteriesReading:
        if not self._identified:
            # Tells the serial the certificate name needs, and that this is a P1 meter.
            info = await client.device_info()
            if info.product_type not in (None, "HWE-P1"):
                wrong = f"{info.product_type} is not a P1 meter (kWh meters: homewizard_devices)"
                raise SourceError("bad_model", wrong)
            self._identified = True
        payload = await client.request_json("GET", "/api/batteries", "reading batteries")
        try:
            return BatteriesReading(self._clock(), parse_batteries(payload))
        except PayloadError as exc:
            raise SourceError("payload", f"malformed batteries: {exc}") from None
