"""Demo part: one simulated P1 meter per configured meter (API v2 with push) and one simulated
device per configured HomeWizard device (a kWh meter and a socket in the built-in demo)."""

from __future__ import annotations

import contextlib

from pydantic import SecretStr

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.homewizard.peer import BATTERIES, HomeWizardPeer
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sources.homewizard import DEVICES, METERS
from gridwatch.sources.homewizard.config import (
    DsmrMeter,
    HomeWizardConnection,
    HomeWizardDevice,
    HomeWizardMeter,
)


def pointed_at[C: HomeWizardConnection](settings: C, sim: HomeWizardPeer, *, v2: bool) -> C:
    """The user's settings for a device, pointed at its simulator (over v2 with its token)."""
    return settings.model_copy(
        update={
            "host": sim.host,
            "api": "v2" if v2 else "v1",
            "token": SecretStr(sim.token) if v2 else None,
            "token_file": None,
            "serial": sim.identifier.rsplit("/", 1)[1],
            "ca_file": sim.ca_file,
            "http_port": sim.http_port,
            "https_port": sim.https_port,
        }
    )


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    meters: list[HomeWizardMeter | DsmrMeter] = []
    lines: list[str] = []
    for index, meter in enumerate(METERS.of(config)):
        if not isinstance(meter, HomeWizardMeter):
            meters.append(meter)  # a meter on its own P1 port: the P1 demo covers HomeWizard
            continue
        options = SimulatorOptions(
            serial=f"5c2faf{index:06x}",
            seed=index + 1,
            batteries=dict(BATTERIES) if meter.batteries else None,
        )
        sim = await stack.enter_async_context(HomeWizardSimulator(options, clock=clock))
        meters.append(pointed_at(meter, sim, v2=True))
        lines.append(
            f"  P1 meter {meter.name!r} (simulated): v1 {sim.http_url}/api/v1/data · "
            f"v2 {sim.https_url}/api/measurement · press its button: "
            f"curl -X POST {sim.http_url}/sim/button"
        )
    devices: list[HomeWizardDevice] = []
    for index, device in enumerate(DEVICES.of(config)):
        product = device.product_type or "HWE-KWH1"
        dev_sim = DeviceSimulator(
            DeviceOptions(product_type=product, serial=f"5c2fafd0{index:04x}"), clock=clock
        )
        await stack.enter_async_context(dev_sim)
        # v2 where the product has it, unless the user asked for v1
        devices.append(pointed_at(device, dev_sim, v2=dev_sim.has_v2 and device.api != "v1"))
        lines.append(
            f"  {dev_sim.product_name} {device.name!r} (simulated): "
            f"v1 {dev_sim.http_url}/api/v1/data"
            + (f" · v2 {dev_sim.https_url}/api/measurement" if dev_sim.has_v2 else "")
        )
    return config.model_copy(update={METERS.key: meters, DEVICES.key: devices}), lines
