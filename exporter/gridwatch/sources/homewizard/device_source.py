"""A HomeWizard device other than the P1 meter, polled over API v1 or v2.

The product type comes from ``GET /api`` on the first poll (and again after a failure: the
device may have been replaced). kWh meters, sockets, watermeters and batteries all answer
``/api/v1/data`` (v1) or ``/api/measurement`` (v2); a v1 socket's relay state is ``/api/v1/state``,
and a kWh meter's battery group (v2) ``/api/batteries``.
"""

from __future__ import annotations

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from gridwatch.sources.homewizard.client import HomeWizardClient, connected
from gridwatch.sources.homewizard.config import HomeWizardDevice
from gridwatch.sources.homewizard.device_parse import kind_of, parse_device_measurement
from gridwatch.sources.homewizard.device_reading import DeviceReading
from gridwatch.sources.homewizard.parse import PayloadError
from gridwatch.sources.homewizard.reading import DeviceInfo

DEVICE_KIND = "homewizard_device"


class HomeWizardDeviceSource:
    def __init__(self, device: HomeWizardDevice, *, clock: Clock = system_clock) -> None:
        self.device_config = device
        self._clock = clock
        self.key = SourceKey(DEVICE_KIND, device.name)
        self.staleness = device.staleness
        self.api = "v2" if device.uses_v2 else "v1"
        self.device: DeviceInfo | None = None

    async def run(self, ctx: SourceContext) -> None:
        # The certificate's <type> is learned from GET /api with the product type.
        async with connected(self.device_config, device_type=None) as client:

            async def poll() -> DeviceReading:
                try:
                    return await self.read(client)
                except SourceError:
                    self.device = None  # ask again after a failure: the device may differ
                    raise

            cfg = self.device_config
            await poll_forever(ctx, self.key, poll, cfg.interval, cfg.timeout)

    def _product(self, info: DeviceInfo) -> str:
        product = info.product_type
        wanted = self.device_config.product_type
        if product == "HWE-P1":
            raise SourceError("bad_model", "this is a P1 meter: configure it under meters:")
        if kind_of(product) is None:
            raise SourceError("bad_model", f"product type {product!r} is not supported")
        if wanted is not None and product != wanted:
            raise SourceError("bad_model", f"configured as {wanted}, the device is {product}")
        assert product is not None
        return product

    async def read(self, client: HomeWizardClient) -> DeviceReading:
        if self.device is None:
            self.device = await client.device_info()
        product = self._product(self.device)
        kind = kind_of(product)
        v2 = self.api == "v2"
        payload = await client.measurement()
        state = None
        if kind == "socket" and not v2:
            state = await client.request_json("GET", "/api/v1/state", "reading socket state")
        batteries = None
        if v2 and self.device_config.batteries and kind == "kwh_meter":
            batteries = await client.request_json("GET", "/api/batteries", "reading batteries")
        try:
            return parse_device_measurement(
                payload,
                api=self.api,
                product_type=product,
                received_at=self._clock(),
                state=state,
                batteries=batteries,
            )
        except PayloadError as exc:
            raise SourceError("payload", f"malformed measurement: {exc}") from None
