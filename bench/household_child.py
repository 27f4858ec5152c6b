"""Child process: every simulator of a full household, so none of their CPU is the exporter's.

One process serves a HomeWizard P1 meter (v2, 1 Hz push), the price server (today and tomorrow
published from midnight, so two days of quarter prices are there at once), an SMG-II behind an
Eybond dongle, a fake BlueZ with four 16-cell JK packs on a private dbus-daemon, and the outage
operator. Prints ``BENCH-READY {json}`` on stderr: the config sections pointing at them, the
private bus address the exporter needs in ``DBUS_SYSTEM_BUS_ADDRESS``, and a control URL.

Faults for the soak over HTTP: ``POST /fault?peer=meter|prices|inverter|batteries|outages&
action=stop|start|garbage|heal``; ``GET /state`` gives the meter's push count and request counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gridwatch.app import wait_for_signal
from gridwatch.sim.bluez.bluetooth import FakeBluetooth
from gridwatch.sim.bluez.jkbms import JkPack
from gridwatch.sim.bluez.jkbms_frames import JK02_24S_V10_08
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sim.outages.operator import OutageOperatorSimulator, Rotation
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sim.service import RouteServer
from gridwatch.sources.inverter.regmap import load_shipped

READY = "BENCH-READY "
PARTS = ("meter", "prices", "inverter", "batteries", "outages")
ACTIONS = ("stop", "start", "garbage", "heal")
PACKS = 4
OUTAGE_ROTATION_S = 300.0  # the made-up schedule moves, as in the demo
Action = Callable[[], Awaitable[None] | None]


class Household:
    """The simulators of one household and the faults the soak switches on and off."""

    def __init__(self, parts: set[str], push_interval: float) -> None:
        self.parts = parts
        self.meter = HomeWizardSimulator(SimulatorOptions(push_interval=push_interval))
        self.prices = PriceSimulator(publish_at=dt.time(0, 0))
        self.dongle = EybondDongleSimulator(InverterDevice(load_shipped("smg_ii")))
        self.bluetooth = FakeBluetooth()
        self.packs = [
            JkPack(f"C8:47:80:0F:D5:{0xC0 + i:02X}", f"JK-bench-{i + 1}", JK02_24S_V10_08)
            for i in range(PACKS)
        ]
        self.outages = OutageOperatorSimulator(rotation=Rotation(OUTAGE_ROTATION_S))
        self.faults: list[str] = []  # what was done, in order

    async def start(self, stack: contextlib.AsyncExitStack) -> dict[str, Any]:
        """Start the chosen parts; the config sections that point at them."""
        sections: dict[str, Any] = {}
        if "meter" in self.parts:
            await self.meter.start()
            stack.push_async_callback(self.meter.close)
            sections["meters"] = [
                {
                    "name": "home",
                    "host": self.meter.host,
                    "api": "v2",
                    "token": self.meter.token,
                    "serial": self.meter.identifier.rsplit("/", 1)[1],
                    "ca_file": str(self.meter.ca_file),
                    "http_port": self.meter.http_port,
                    "https_port": self.meter.https_port,
                    "push": True,
                    "fuse_amperes": 20,
                }
            ]
        if "prices" in self.parts:
            await self.prices.start()
            stack.push_async_callback(self.prices.close)
            sections["prices"] = {
                "area": "SE3",
                "elprisetjustnu_url": self.prices.elprisetjustnu_url,
                "nordpool_url": self.prices.nordpool_url,
                "publish_after": "00:00",
            }
            sections["tariff"] = {  # the demo's SE3 household
                "vat": 0.25,
                "supplier": {"markup_per_kwh": 0.04, "variable_fees_per_kwh": 0.025},
                "grid": {"transfer_fee_per_kwh": 0.25, "monthly_fee": 320},
                "energy_tax_per_kwh": 0.36,
                "capacity_fee": {"price_per_kw": 65, "peaks": 3, "distinct_days": True},
            }
        if "inverter" in self.parts:
            await self.dongle.start()
            stack.push_async_callback(self.dongle.stop)
            sections["inverters"] = [
                {
                    "name": "smg",
                    "transport": "eybond",
                    "host": "127.0.0.1",
                    "model": "smg_ii",
                    "dongle_port": self.dongle.udp_port,
                    "listen_host": "127.0.0.1",
                    "listen_port": 0,
                    "advertise_host": "127.0.0.1",
                    "battery_capacity_wh": 5120,
                }
            ]
        if "batteries" in self.parts:
            await self.bluetooth.start()
            stack.push_async_callback(self.bluetooth.close)
            for pack in self.packs:
                self.bluetooth.bluez.add_pack(pack)
            sections["batteries"] = {
                "devices": [
                    {"name": f"pack{i + 1}", "address": p.address, "type": "jikong_bms"}
                    for i, p in enumerate(self.packs)
                ],
                "scan_timeout": 5,
                "rescan": False,
            }
        if "outages" in self.parts:
            await self.outages.start()
            stack.push_async_callback(self.outages.close)
            sections["outages"] = {"queue": "5.2", "url": self.outages.url}
        return sections

    # -- faults ---------------------------------------------------------------------------------

    def _packs_in_range(self, present: bool) -> None:
        for pack in self.packs:
            pack.in_range = present
            if not present:
                self.bluetooth.bluez.disconnect(pack)

    def _packs_garbage(self, broken: bool) -> None:
        for pack in self.packs:
            pack.drop_mid_frame = broken

    def _prices_broken(self, mode: str | None) -> None:
        for provider in ("elprisetjustnu", "nordpool"):
            self.prices.break_provider(provider, mode)

    def _set_outage_mode(self, mode: str) -> None:
        self.outages.mode = mode  # type: ignore[assignment]  # checked against MODES below

    def action(self, peer: str, action: str) -> Action:
        table: dict[tuple[str, str], Action] = {
            ("meter", "stop"): self.meter.stop,
            ("meter", "start"): self.meter.start,
            ("meter", "garbage"): lambda: self.meter.set_broken("garbage"),
            ("meter", "heal"): lambda: self.meter.set_broken(None),
            ("prices", "stop"): self.prices.close,
            ("prices", "start"): self.prices.start,  # the same port again
            ("prices", "garbage"): lambda: self._prices_broken("garbage"),
            ("prices", "heal"): lambda: self._prices_broken(None),
            ("inverter", "stop"): self.dongle.stop,
            ("inverter", "start"): self.dongle.start,  # the same UDP port again
            ("inverter", "garbage"): lambda: setattr(self.dongle, "corrupt_crc", True),
            ("inverter", "heal"): lambda: setattr(self.dongle, "corrupt_crc", False),
            ("batteries", "stop"): lambda: self._packs_in_range(False),
            ("batteries", "start"): lambda: self._packs_in_range(True),
            ("batteries", "garbage"): lambda: self._packs_garbage(True),
            ("batteries", "heal"): lambda: self._packs_garbage(False),
            # The operator simulator binds a new port on every start, so "stopped" is its
            # gateway answering 502, which is what a user sees when the operator's site is down.
            ("outages", "stop"): lambda: self._set_outage_mode("error"),
            ("outages", "start"): lambda: self._set_outage_mode("ok"),
            ("outages", "garbage"): lambda: self._set_outage_mode("garbage"),
            ("outages", "heal"): lambda: self._set_outage_mode("ok"),
        }
        return table[peer, action]

    def state(self) -> dict[str, Any]:
        return {
            "measurements_pushed": self.meter.measurements_pushed,
            "price_requests": dict(self.prices.requests),
            "dongle_requests": self.dongle.requests,
            "outage_requests": dict(self.outages.requests),
            "pack_commands": [len(p.commands) for p in self.packs],
            "faults": self.faults,
        }


def control_routes(household: Household) -> list[web.RouteDef]:
    async def fault(request: web.Request) -> web.Response:
        peer, action = request.query.get("peer", ""), request.query.get("action", "")
        if peer not in household.parts or action not in ACTIONS:
            return web.json_response({"error": f"no such fault {peer}/{action}"}, status=400)
        outcome = household.action(peer, action)()
        if outcome is not None:
            await outcome
        household.faults.append(f"{peer}:{action}")
        return web.json_response({"peer": peer, "action": action})

    async def state(_request: web.Request) -> web.Response:
        return web.json_response(household.state())

    return [web.post("/fault", fault), web.get("/state", state)]


async def _serve(parts: set[str], push_interval: float) -> None:
    household = Household(parts, push_interval)
    async with contextlib.AsyncExitStack() as stack:
        sections = await household.start(stack)
        control = await stack.enter_async_context(RouteServer(control_routes(household)))
        info = {
            "sections": sections,
            "dbus": household.bluetooth.address,
            "control": control.url,
        }
        print(READY + json.dumps(info), file=sys.stderr, flush=True)
        await wait_for_signal()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset")
    parser.add_argument("--push-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if unknown := parts - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    asyncio.run(_serve(parts, args.push_interval))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
