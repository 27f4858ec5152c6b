"""A HomeWizard kWh meter, Energy Socket, Watermeter or Plug-In Battery on loopback.

The P1 simulator's sibling: the same CA, token store and ports (v1 HTTP, v2 HTTPS), serving the
device's own endpoints (PROTOCOLS-2.md §4): ``/api``, ``/api/v1/data``, ``/api/v1/state`` (socket,
GET and PUT with the real rules), ``/api/measurement``, ``/api/system``, ``/api/batteries``
(kWh meters). Driven by a fixture payload or by a synthetic model and the injected clock.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.homewizard.certs import CertAuthority
from gridwatch.sim.homewizard.device_format import (
    PRODUCTS,
    power_of,
    synthetic_v2,
    v1_to_v2,
    v2_to_v1,
)
from gridwatch.sim.homewizard.peer import BATTERIES, HomeWizardPeer, run_standalone
from gridwatch.sim.homewizard.users import v2_error

__all__ = ["DeviceOptions", "DeviceSimulator", "main"]

API_V2_VERSION = "2.2.0"
_METERS = ("HWE-KWH1", "HWE-KWH3", "SDM230-wifi", "SDM630-wifi")  # serve /api/batteries on v2


@dataclass
class DeviceOptions:
    product_type: str = "HWE-KWH3"
    serial: str = "5c2fafdd0001"
    host: str = "127.0.0.1"
    http_port: int = 0
    https_port: int = 0
    fixture: dict[str, Any] | None = None  # a v1 data or v2 measurement payload to serve
    fixture_api: str = "v1"  # which API the fixture's names belong to
    batteries: dict[str, Any] | None = field(default_factory=lambda: dict(BATTERIES))
    token: str | None = None
    button_window: float = 30.0


def _v1_error(status: int, error_id: int, description: str) -> web.Response:
    return web.json_response({"error": {"id": error_id, "description": description}}, status=status)


class DeviceSimulator(HomeWizardPeer):
    def __init__(
        self,
        options: DeviceOptions | None = None,
        *,
        ca: CertAuthority | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.options = opts = options or DeviceOptions()
        if opts.product_type not in PRODUCTS:
            raise ValueError(f"unknown product type {opts.product_type!r}")
        self.product_name, cert_type, self.has_v1, self.has_v2 = PRODUCTS[opts.product_type]
        super().__init__(
            host=opts.host,
            http_port=opts.http_port,
            https_port=opts.https_port,
            serial=opts.serial,
            cert_type=cert_type,
            token=opts.token,
            button_window=opts.button_window,
            ca=ca,
            batteries=opts.batteries if opts.product_type in _METERS else None,
        )
        self._clock = clock
        self.power_on = True
        self.switch_lock = False
        self.brightness = 255
        self.switches: list[bool] = []  # every power_on a client PUT, in order
        self._energy = 1234.5
        self._last_t: float | None = None

    @property
    def serial(self) -> str:
        return self.options.serial

    # -- model ------------------------------------------------------------------------------------

    def measurement_v2(self) -> dict[str, Any]:
        opts = self.options
        if opts.fixture is not None:
            m = dict(opts.fixture) if opts.fixture_api == "v2" else v1_to_v2(opts.fixture)
        else:
            t = self._clock()
            m = synthetic_v2(opts.product_type, t, on=self.power_on, energy_kwh=self._energy)
            if self._last_t is not None and t > self._last_t:
                step = (t - self._last_t) / 3600
                # kWh from power, or m³ from L/min on the watermeter
                flow = m.get("active_liter_lpm")
                self._energy += flow * 60 * step / 1000 if flow else power_of(m) * step / 1000
            self._last_t = t
        if opts.product_type == "HWE-SKT" and not self.power_on:
            m.update({k: 0.0 for k in ("power_w", "current_a") if k in m})
        return m

    def measurement_v1(self) -> dict[str, Any]:
        if self.options.fixture is not None and self.options.fixture_api == "v1":
            data = dict(self.options.fixture)
            if self.options.product_type == "HWE-SKT" and not self.power_on:
                data.update({k: 0 for k in ("active_power_w", "active_power_l1_w") if k in data})
            return data
        return v2_to_v1(self.measurement_v2())

    def _device(self, api_version: str) -> dict[str, Any]:
        return {
            "product_name": self.product_name,
            "product_type": self.options.product_type,
            "serial": self.options.serial,
            "firmware_version": "4.19",
            "api_version": api_version,
        }

    def _state(self) -> dict[str, Any]:
        return {
            "power_on": self.power_on,
            "switch_lock": self.switch_lock,
            "brightness": self.brightness,
        }

    def update_state(self, body: object) -> tuple[dict[str, Any] | None, str | None]:
        """Apply a PUT /api/v1/state; returns (the changed keys, error)."""
        if not isinstance(body, dict) or not body:
            return None, "Body should be a JSON object with power_on, switch_lock or brightness"
        for key, value in body.items():
            if key in ("power_on", "switch_lock") and not isinstance(value, bool):
                return None, f"Value for '{key}' should be a boolean"
            if key == "brightness" and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255
            ):
                return None, "Value for 'brightness' should be 0-255"
            if key not in ("power_on", "switch_lock", "brightness"):
                return None, f"Unknown key '{key}'"
        lock = body.get("switch_lock", self.switch_lock)
        if lock and body.get("power_on", self.power_on) is False:
            return None, "Cannot turn off while switch_lock is true"
        if "power_on" in body:
            self.switches.append(body["power_on"])
            self.power_on = body["power_on"]
        self.switch_lock = lock
        self.brightness = body.get("brightness", self.brightness)
        return dict(body), None

    # -- HTTP -------------------------------------------------------------------------------------

    def _http_app(self) -> web.Application:
        app = web.Application()
        routes = [web.get("/api", self._v1_device), web.post("/sim/button", self._button)]
        if self.has_v1:
            routes += [web.get("/api/v1/data", self._v1_data)]
            if self.options.product_type == "HWE-SKT":
                routes += [
                    web.get("/api/v1/state", self._v1_state),
                    web.put("/api/v1/state", self._v1_put),
                ]
        app.add_routes(routes)
        return app

    def _https_app(self) -> web.Application:
        @web.middleware
        async def v2_gate(request: web.Request, handler: Any) -> web.StreamResponse:
            open_path = request.method == "POST" and request.path == "/api/user"
            gated = request.path.startswith("/api") and not open_path
            if gated and not self._users.authorized(request):
                return v2_error(401, "user:unauthorized")
            response: web.StreamResponse = await handler(request)
            return response

        app = web.Application(middlewares=[v2_gate])
        routes = [
            web.get("/api", self._v2_device),
            web.post("/api/user", self._users.create),
            web.post("/sim/button", self._button),
        ]
        if self.has_v2:
            routes += [web.get("/api/measurement", self._v2_measurement),
                       web.get("/api/system", self._v2_system)]  # fmt: skip
            if self.options.product_type in _METERS:
                routes += self._batteries_routes()
        app.add_routes(routes)
        return app

    async def _v1_device(self, _request: web.Request) -> web.Response:
        return web.json_response(self._device("v1"))

    async def _v1_data(self, _request: web.Request) -> web.Response:
        return web.json_response(self.measurement_v1())

    async def _v1_state(self, _request: web.Request) -> web.Response:
        return web.json_response(self._state())

    async def _v1_put(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _v1_error(400, 2, "Body contains invalid JSON")
        changed, error = self.update_state(body)
        return _v1_error(400, 7, error) if error else web.json_response(changed)

    async def _v2_device(self, _request: web.Request) -> web.Response:
        return web.json_response(self._device(API_V2_VERSION))

    async def _v2_measurement(self, _request: web.Request) -> web.Response:
        return web.json_response(self.measurement_v2())

    async def _v2_system(self, _request: web.Request) -> web.Response:
        return web.json_response({"wifi_ssid": "gridwatch-sim", "wifi_rssi_db": -61,
                                  "cloud_enabled": False, "uptime_s": 3600})  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a simulated HomeWizard device on loopback.")
    parser.add_argument("--product", default="HWE-KWH3", choices=sorted(PRODUCTS))
    parser.add_argument("--fixture", type=Path, help="v1 data or v2 measurement JSON to serve")
    parser.add_argument("--http-port", type=int, default=0, metavar="N")
    parser.add_argument("--https-port", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    fixture = json.loads(args.fixture.read_text()) if args.fixture else None
    options = DeviceOptions(
        product_type=args.product,
        http_port=args.http_port,
        https_port=args.https_port,
        fixture=fixture,
        fixture_api="v2" if fixture and "power_w" in fixture else "v1",
    )
    return run_standalone(lambda: DeviceSimulator(options), _banner)


def _banner(sim: DeviceSimulator) -> list[str]:
    return [
        f"HomeWizard {sim.product_name} simulator ({sim.identifier})",
        f"  API v1: {sim.http_url}/api/v1/data   API v2: {sim.https_url}/api/measurement",
        f"  token:  {sim.token}   CA file: {sim.ca_file}",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
