"""Demo part for this area (see gridwatch.sim.demo_part): a simulated schedule operator."""

from __future__ import annotations

import contextlib

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.outages.operator import OutageOperatorSimulator, Rotation
from gridwatch.sources.outages import OUTAGES

CHANGE_EVERY = 300.0  # the made-up schedule moves every 5 minutes, so changes show in the demo


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    user_outages = OUTAGES.of(config)
    if user_outages is None:
        return config, []
    sim = OutageOperatorSimulator(clock=clock, rotation=Rotation(CHANGE_EVERY))
    await sim.start()
    stack.push_async_callback(sim.close)
    outages = user_outages.model_copy(update={"url": sim.url})
    lines = [
        f"  outages      queue {outages.queue} (simulated be-svitlo, changes every "
        f"{CHANGE_EVERY / 60:g} min): {sim.url}/schedule-by-queue?queue={outages.queue} · "
        f"geo-block it: curl -X POST '{sim.url}/sim/mode?mode=forbidden' (mode=ok to undo)",
    ]
    return config.model_copy(update={OUTAGES.key: outages}), lines
