"""Demo part: every configured inverter becomes a simulated SMG-II behind an Eybond dongle.

The dongle simulator listens for the UDP wake-up on a free loopback port and connects back to
gridwatch's listener, so the demo runs the same code path as a real Wi-Fi dongle. The scenario
takes the grid away two minutes after the start for three minutes, so the grid state changes.
"""

from __future__ import annotations

import contextlib

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.inverter.device import InverterDevice, Scenario
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sources.inverter import INVERTERS
from gridwatch.sources.inverter.source import load_map

OUTAGE = (120.0, 300.0)  # seconds after the demo starts


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    inverters, lines = [], []
    for index, inverter in enumerate(INVERTERS.of(config)):
        regmap = load_map(inverter)
        device = InverterDevice(
            regmap,
            Scenario(start=clock(), outages=[OUTAGE]),
            serial=f"92B3240810{index:04d}",
            clock=clock,
        )
        dongle = EybondDongleSimulator(device)
        await dongle.start()
        stack.push_async_callback(dongle.stop)
        inverters.append(
            inverter.model_copy(
                update={
                    "transport": "eybond",
                    "host": "127.0.0.1",
                    "port": None,
                    "device": None,
                    "dongle_port": dongle.udp_port,
                    "listen_host": "127.0.0.1",
                    "listen_port": 0,
                    "advertise_host": "127.0.0.1",
                }
            )
        )
        lines.append(
            f"  inverter {inverter.name!r} (simulated {regmap.model} behind an Eybond dongle, "
            f"UDP wake-up on 127.0.0.1:{dongle.udp_port}); grid drops "
            f"{OUTAGE[0]:.0f}–{OUTAGE[1]:.0f} s after start"
        )
    return config.model_copy(update={INVERTERS.key: inverters}), lines
