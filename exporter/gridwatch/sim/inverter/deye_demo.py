"""Demo part for a Deye/Sunsynk: every configured inverter becomes a simulated Deye hybrid
behind a simulated Solarman V5 logger stick, so the demo runs the stick's code path.

``DEMO_CHOICES`` is what `gridwatch demo --inverter …` offers for this family; ``demo_part_for``
gives the demo part (the contract of gridwatch.sim.demo_part) for one choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.inverter.demo import OUTAGE
from gridwatch.sim.inverter.device import Scenario
from gridwatch.sim.inverter.deye import MODELS, deye_device, hv_scenario
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from gridwatch.sources.inverter import INVERTERS

DemoPart = Callable[[Config, contextlib.AsyncExitStack, Clock], Awaitable[tuple[Config, list[str]]]]
DEMO_CHOICES = {
    "deye-1p": "Deye/Sunsynk single-phase hybrid (SG0xLP1) behind a Solarman V5 stick",
    "deye-3p": "Deye/Sunsynk three-phase hybrid (SG04LP3) behind a Solarman V5 stick",
    "deye-3p-hv": "Deye three-phase hybrid with an HV battery (SG01HP3) behind a Solarman V5 stick",
}
LOGGER_SERIAL = 2799835885


async def demo_part(
    config: Config,
    stack: contextlib.AsyncExitStack,
    clock: Clock = system_clock,
    kind: str = "deye-3p",
    *,
    index: int = 0,  # of the first inverter among the demo's: each stick has its own serial
) -> tuple[Config, list[str]]:
    inverters, lines = [], []
    for offset, inverter in enumerate(INVERTERS.of(config)):
        scenario = (
            hv_scenario(clock(), [OUTAGE])
            if kind == "deye-3p-hv"
            else Scenario(start=clock(), outages=[OUTAGE])
        )
        device = deye_device(kind, scenario, clock=clock)
        logger = SolarmanLoggerSimulator(device, logger_serial=LOGGER_SERIAL + index + offset)
        await logger.start()
        stack.push_async_callback(logger.stop)
        inverters.append(
            inverter.model_copy(
                update={
                    "transport": "solarman",
                    "host": "127.0.0.1",
                    "port": logger.port,
                    "logger_serial": logger.logger_serial,
                    "model": MODELS[kind],
                    "model_file": None,
                    "device": None,
                }
            )
        )
        lines.append(
            f"  inverter {inverter.name!r} (simulated {MODELS[kind]} behind a Solarman V5 "
            f"logger on 127.0.0.1:{logger.port}, serial {logger.logger_serial}); grid drops "
            f"{OUTAGE[0]:.0f}–{OUTAGE[1]:.0f} s after start"
        )
    return config.model_copy(update={INVERTERS.key: inverters}), lines


def demo_part_for(kind: str) -> DemoPart:
    """The demo part for one of ``DEMO_CHOICES`` (KeyError for another choice)."""
    if kind not in DEMO_CHOICES:
        raise KeyError(kind)

    async def part(
        config: Config, stack: contextlib.AsyncExitStack, clock: Clock
    ) -> tuple[Config, list[str]]:
        return await demo_part(config, stack, clock, kind)

    return part
