"""Demo part: one simulated P1 meter per configured meter, reached over API v2 with push."""

from __future__ import annotations

import contextlib

from pydantic import SecretStr

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sources.homewizard import METERS
from gridwatch.sources.homewizard.config import HomeWizardMeter


def simulated_meter(meter: HomeWizardMeter, sim: HomeWizardSimulator) -> HomeWizardMeter:
    """The user's meter settings, pointed at a simulator over API v2 with push."""
    return meter.model_copy(
        update={
            "host": sim.host,
            "api": "v2",
            "token": SecretStr(sim.token),
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
    meters, lines = [], []
    for index, meter in enumerate(METERS.of(config)):
        sim = HomeWizardSimulator(
            SimulatorOptions(serial=f"5c2faf{index:06x}", seed=index + 1), clock=clock
        )
        await sim.start()
        stack.push_async_callback(sim.close)
        meters.append(simulated_meter(meter, sim))
        lines.append(
            f"  P1 meter {meter.name!r} (simulated): v1 {sim.http_url}/api/v1/data · "
            f"v2 {sim.https_url}/api/measurement · press its button: "
            f"curl -X POST {sim.http_url}/sim/button"
        )
    return config.model_copy(update={METERS.key: meters}), lines
