"""Demo part: every configured inverter becomes a simulated unit of its family (an SMG-II on
Modbus, a PI30, PI18 or PI17 Voltronic unit) behind an Eybond dongle, or, for a Voltronic unit
configured on ``serial``/``hid``, on a pseudo-terminal standing in for that port; a PI17 unit
(no dongle firmware is known to carry it) or one configured on ``tcp`` behind a simulated
transparent RS232-to-TCP bridge.

The dongle simulator listens for the UDP wake-up on a free loopback port and connects back to
gridwatch's listener, so the demo runs the same code path as a real Wi-Fi dongle. The scenario
takes the grid away two minutes after the start for three minutes, so the grid state changes.
"""

from __future__ import annotations

import contextlib
from typing import Any

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.ascii_tcp import AsciiTcpBridgeSimulator
from gridwatch.sim.inverter.device import InverterDevice, Scenario
from gridwatch.sim.inverter.deye import MODELS as DEYE_MODELS
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sim.inverter.families import DEMO_FAMILIES
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter import INVERTERS
from gridwatch.sources.inverter.config import InverterConfig
from gridwatch.sources.inverter.source import load_map

OUTAGE = (120.0, 300.0)  # seconds after the demo starts


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    inverters, lines = [], []
    for index, inverter in enumerate(INVERTERS.of(config)):
        if inverter.model in DEYE_MODELS.values():
            # A Deye map: the unit behind its Solarman V5 stick, the way most are wired.
            from gridwatch.sim.inverter import deye_demo  # noqa: PLC0415 (it imports OUTAGE)

            kind = next(k for k, m in DEYE_MODELS.items() if m == inverter.model)
            one = config.model_copy(update={INVERTERS.key: [inverter]})
            done, more = await deye_demo.demo_part(one, stack, clock, kind, index=index)
            inverters += INVERTERS.of(done)
            lines += more
            continue
        if inverter.protocol != "modbus":
            simulated, line = await _voltronic(inverter, index, stack, clock)
            inverters.append(simulated)
            lines.append(line)
            continue
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


def with_family(config: Config, family: str) -> Config:
    """The config with every inverter switched to ``family`` (`gridwatch demo --inverter`)."""
    keys = DEMO_FAMILIES[family]
    inverters = []
    for inverter in INVERTERS.of(config):
        data: dict[str, Any] = inverter.model_dump(exclude_unset=True)
        if keys.get("protocol", "modbus") != "modbus":
            data.pop("model", None)
            data.pop("model_file", None)
        inverters.append(InverterConfig.model_validate({**data, **keys}))
    return config.model_copy(update={INVERTERS.key: inverters})


async def _voltronic(
    inverter: InverterConfig, index: int, stack: contextlib.AsyncExitStack, clock: Clock
) -> tuple[InverterConfig, str]:
    device = VoltronicDevice(
        inverter.protocol,
        Scenario(start=clock(), outages=[OUTAGE]),
        max_model=inverter.protocol == "pi30",
        serial=f"9293333{index:06d}",
        clock=clock,
    )
    outage = f"grid drops {OUTAGE[0]:.0f}–{OUTAGE[1]:.0f} s after start"
    name = inverter.protocol.upper()
    if inverter.transport in {"serial", "hid"}:
        line = AsciiLineSimulator(device, hid=inverter.transport == "hid")
        await line.start()
        stack.push_async_callback(line.stop)
        update: dict[str, Any] = {"device": line.path}
        where = f"on {line.path} ({inverter.transport})"
    elif inverter.transport == "tcp" or inverter.protocol == "pi17":
        bridge = AsciiTcpBridgeSimulator(device)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        update = {"transport": "tcp", "host": "127.0.0.1", "port": bridge.port, "device": None}
        where = f"behind an RS232-to-TCP bridge on 127.0.0.1:{bridge.port}"
    else:
        dongle = EybondDongleSimulator(device)
        await dongle.start()
        stack.push_async_callback(dongle.stop)
        update = {
            "transport": "eybond",
            "host": "127.0.0.1",
            "dongle_port": dongle.udp_port,
            "listen_host": "127.0.0.1",
            "listen_port": 0,
            "advertise_host": "127.0.0.1",
        }
        where = f"behind an Eybond dongle, UDP wake-up on 127.0.0.1:{dongle.udp_port}"
    text = f"  inverter {inverter.name!r} (simulated {name} unit {where}); {outage}"
    return inverter.model_copy(update=update), text
