"""Demo part: every configured thermometer becomes a simulated one on loopback."""

from __future__ import annotations

import contextlib

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from tests.areas.thermometer import THERMOMETERS
from tests.areas.thermometer.sim import ThermometerSimulator


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    thermometers, lines = [], []
    for index, thermometer in enumerate(THERMOMETERS.of(config)):
        sim = await stack.enter_async_context(ThermometerSimulator(celsius=20.0 + index))
        thermometers.append(thermometer.model_copy(update={"url": sim.url}))
        lines.append(f"  thermometer {thermometer.name!r} (simulated): {sim.url}/temperature")
    return config.model_copy(update={THERMOMETERS.key: thermometers}), lines
