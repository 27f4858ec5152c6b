"""HomeWizard P1 meter simulator: API v1 over HTTP, API v2 + WebSocket over HTTPS.

It speaks the documented wire formats (PROTOCOLS.md §2.2–2.5) so our client can be tested against
it as against a real dongle, and ``gridwatch demo`` can run without hardware. Test-only controls
live under ``/sim/`` on both ports and never under ``/api``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridwatch.core.clock import Clock, system_clock
from gridwatch.core.tasks import cancel_and_wait
from gridwatch.sim.homewizard.certs import CertAuthority
from gridwatch.sim.homewizard.household import Household
from gridwatch.sim.homewizard.p1_format import dsmr_telegram, load_fixture, v2_to_v1
from gridwatch.sim.homewizard.peer import HomeWizardPeer, run_standalone
from gridwatch.sim.homewizard.users import v2_error
from gridwatch.sim.homewizard.ws import WebSocketHub

__all__ = ["HomeWizardSimulator", "SimulatorOptions", "main"]

log = logging.getLogger(__name__)

API_V2_VERSION = "2.0.0"
_GARBAGE = '{"power_w": 4<html>upstream glitch'  # truncated JSON: must fail any JSON parser
_WIFI_SSID, _WIFI_RSSI_DB = "gridwatch-sim", -58
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimulatorOptions:
    serial: str = "5c2fafaabbcc"
    host: str = "127.0.0.1"
    http_port: int = 0  # 0 = pick a free port on first start
    https_port: int = 0
    push_interval: float = 1.0  # seconds between WebSocket measurement pushes / model steps
    fixture: Path | None = None  # v1 or v2 JSON payload; None = synthetic household
    token: str | None = None  # a pre-paired valid token; None = generate one
    seed: int = 1
    v1_enabled: bool = True  # False → v1 endpoints answer 403 (API disabled)
    button_window: float = 30.0
    timezone: str = "Europe/Stockholm"
    ws_auth_timeout: float = 40.0  # the device drops unauthenticated sockets after this long
    pv_peak_w: float = 6000.0  # the synthetic household's solar panels (0 = a house without)
    # GET /api/batteries (v2): the Plug-In Battery group the meter controls; None = 404.
    batteries: dict[str, Any] | None = None


def _v1_error(status: int, error_id: int, description: str) -> web.Response:
    return web.json_response({"error": {"id": error_id, "description": description}}, status=status)


class HomeWizardSimulator(HomeWizardPeer):
    """A HomeWizard P1 dongle on loopback. Use as ``async with HomeWizardSimulator() as sim``."""

    def __init__(
        self,
        options: SimulatorOptions | None = None,
        *,
        ca: CertAuthority | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.options = opts = options or SimulatorOptions()
        super().__init__(
            host=opts.host,
            http_port=opts.http_port,
            https_port=opts.https_port,
            serial=opts.serial,
            cert_type="p1dongle",
            token=opts.token,
            button_window=opts.button_window,
            ca=ca,
            batteries=opts.batteries,
        )
        self._clock = clock
        self._tz = ZoneInfo(opts.timezone)
        self._broken: str | None = None
        self._v1_enabled = opts.v1_enabled
        self._cloud_enabled = False
        self._led_pct = 100
        self._booted = time.monotonic()
        self._fixture = load_fixture(opts.fixture) if opts.fixture else None
        self._household = None
        if self._fixture is None:
            self._household = Household(
                self._now(), seed=opts.seed, timezone=opts.timezone, pv_peak_w=opts.pv_peak_w
            )
        self._latest: tuple[dict[str, Any], dict[str, Any]] | None = None  # (v2, v1)
        self._hub = WebSocketHub(
            self, api_version=API_V2_VERSION, auth_timeout=opts.ws_auth_timeout
        )
        self._ticker: asyncio.Task[None] | None = None

    # -- public interface -------------------------------------------------------------------------

    @property
    def measurements_pushed(self) -> int:
        """Measurement messages sent over WebSockets so far (garbage frames do not count)."""
        return self._hub.measurements_pushed

    async def _started(self) -> None:
        self._snapshot()
        self._ticker = asyncio.create_task(self._tick_loop(), name="homewizard-sim-ticker")

    async def _stopping(self) -> None:
        await cancel_and_wait(self._ticker)
        self._ticker = None
        await self._hub.close_all()  # clients must see the disconnect, not a silent socket

    def set_broken(self, mode: str | None) -> None:
        if mode not in (None, "garbage", "http500"):
            raise ValueError(f"unknown broken mode {mode!r}")
        self._broken = mode

    def measurement_v2(self) -> dict[str, Any]:
        return copy.deepcopy(self._current()[0])

    def measurement_v1(self) -> dict[str, Any]:
        return copy.deepcopy(self._current()[1])

    # -- model ----------------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), self._tz)

    def _snapshot(self) -> None:
        """Take the next "telegram": what every endpoint serves until the next tick."""
        now = self._now()
        if self._fixture is not None:
            v2 = dict(self._fixture.v2)
            v2["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%S")
            self._latest = (v2, self._fixture.v1)
        else:
            assert self._household is not None
            v2 = self._household.measurement_v2(now)
            self._latest = (v2, v2_to_v1(v2, wifi_ssid=_WIFI_SSID, wifi_strength=84))

    def _current(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self._latest is None:
            self._snapshot()
        assert self._latest is not None
        return self._latest

    def _device(self, api_version: str) -> dict[str, Any]:
        return {
            "product_name": "P1 Meter",
            "product_type": "HWE-P1",
            "serial": self.options.serial,
            "firmware_version": "6.00",
            "api_version": api_version,
        }

    def _system(self) -> dict[str, Any]:
        return {
            "wifi_ssid": _WIFI_SSID,
            "wifi_rssi_db": _WIFI_RSSI_DB,
            "cloud_enabled": self._cloud_enabled,
            "uptime_s": int(time.monotonic() - self._booted),
            "status_led_brightness_pct": self._led_pct,
            "api_v1_enabled": self._v1_enabled,
        }

    def update_system(self, body: object) -> str | None:
        """Apply a ``PUT /api/system`` body; return a v2 error code or None."""
        if not isinstance(body, dict):
            return "json:no-parameters-recognized"
        known = {"cloud_enabled", "status_led_brightness_pct", "api_v1_enabled"}
        if not known & body.keys():
            return "json:no-parameters-recognized"
        for key in ("cloud_enabled", "api_v1_enabled"):
            if key in body and not isinstance(body[key], bool):
                return f"json:parameter-invalid-type:{key}"
        led = body.get("status_led_brightness_pct", self._led_pct)
        if isinstance(led, bool) or not isinstance(led, int | float) or not 0 <= led <= 100:
            return "json:parameter-invalid-type:status_led_brightness_pct"
        self._cloud_enabled = body.get("cloud_enabled", self._cloud_enabled)
        self._v1_enabled = body.get("api_v1_enabled", self._v1_enabled)
        self._led_pct = round(led)
        return None

    # -- WsDevice protocol, used by the WebSocket hub ----------------------------------------------

    def valid_tokens(self) -> set[str]:
        return self._users.valid_tokens()

    def topic_payload(self, topic: str) -> dict[str, Any]:
        return self._device(API_V2_VERSION) if topic == "device" else self._system()

    def measurement_frame(self) -> tuple[str, bool]:
        if self._broken == "garbage":
            return _GARBAGE, False
        return json.dumps({"type": "measurement", "data": self._current()[0]}), True

    # -- HTTP plumbing ----------------------------------------------------------------------------

    def _sim_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/sim/button", self._button),
            web.get("/sim/state", self._sim_state),
        ]

    def _http_app(self) -> web.Application:
        @web.middleware
        async def v1_gate(request: web.Request, handler: _Handler) -> web.StreamResponse:
            if request.path.startswith("/api/v1/") and not self._v1_enabled:
                return _v1_error(403, 202, "API not enabled")
            return await handler(request)

        app = web.Application(middlewares=[v1_gate])
        app.add_routes(
            [
                web.get("/api", self._v1_device),
                web.get("/api/v1/data", self._v1_data),
                web.get("/api/v1/telegram", self._telegram),
                web.get("/api/v1/system", self._v1_system),
                *self._sim_routes(),
            ]
        )
        return app

    def _https_app(self) -> web.Application:
        @web.middleware
        async def v2_gate(request: web.Request, handler: _Handler) -> web.StreamResponse:
            if request.path == "/api" or request.path.startswith("/api/"):
                version = request.headers.get("X-Api-Version")
                if version is not None and version.strip() != "2":
                    return v2_error(400, "request:api-version-not-supported")
                # The WebSocket authenticates in-band; only token creation is open.
                open_path = request.path == "/api/ws" or (
                    request.method == "POST" and request.path == "/api/user"
                )
                if not open_path and not self._users.authorized(request):
                    return v2_error(401, "user:unauthorized")
            return await handler(request)

        async def add_version(request: web.Request, response: web.StreamResponse) -> None:
            if request.path.startswith("/api"):
                response.headers["X-Api-Version"] = API_V2_VERSION

        app = web.Application(middlewares=[v2_gate])
        app.on_response_prepare.append(add_version)
        app.add_routes(
            [
                web.get("/api", self._v2_device),
                web.get("/api/measurement", self._v2_measurement),
                web.get("/api/telegram", self._telegram),
                web.get("/api/system", self._v2_system),
                web.put("/api/system", self._v2_system_put),
                web.get("/api/user", self._users.list),
                web.post("/api/user", self._users.create),
                web.delete("/api/user", self._users.delete),
                web.get("/api/ws", self._hub.handle),
                *self._batteries_routes(),
                *self._sim_routes(),
            ]
        )
        return app

    # -- handlers: v1 and simulator controls ------------------------------------------------------

    async def _v1_device(self, _request: web.Request) -> web.Response:
        return web.json_response(self._device("v1"))

    async def _v1_data(self, _request: web.Request) -> web.Response:
        if self._broken == "http500":
            return _v1_error(500, 901, "Internal error")
        if self._broken == "garbage":
            return web.Response(text=_GARBAGE, content_type="application/json")
        return web.json_response(self._current()[1])

    async def _v1_system(self, _request: web.Request) -> web.Response:
        return web.json_response({"cloud_enabled": self._cloud_enabled})

    async def _telegram(self, _request: web.Request) -> web.Response:
        return web.Response(text=dsmr_telegram(self._current()[0], self._tz))

    async def _sim_state(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "serial": self.options.serial,
                "identifier": self.identifier,
                "token": self.token,
                "measurements_pushed": self.measurements_pushed,
                "button_open": self._users.button_open,
                "broken": self._broken,
            }
        )

    # -- handlers: v2 -----------------------------------------------------------------------------

    async def _v2_device(self, _request: web.Request) -> web.Response:
        return web.json_response(self._device(API_V2_VERSION))

    async def _v2_measurement(self, _request: web.Request) -> web.Response:
        if self._broken == "http500":
            return v2_error(500, "request:internal-server-error")
        if self._broken == "garbage":
            return web.Response(text=_GARBAGE, content_type="application/json")
        return web.json_response(self._current()[0])

    async def _v2_system(self, _request: web.Request) -> web.Response:
        return web.json_response(self._system())

    async def _v2_system_put(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return v2_error(400, "request:invalid-json")
        error = self.update_system(body)
        return v2_error(400, error) if error else web.json_response(self._system())

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.push_interval)
            try:
                self._snapshot()
                await self._hub.push_measurement()
            except Exception:  # a bug must not silently freeze the meter for the whole run
                log.exception("simulator tick failed")


# -- standalone -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a simulated HomeWizard P1 meter on loopback.")
    parser.add_argument("--fixture", type=Path, help="v1 or v2 JSON payload to serve")
    parser.add_argument("--push-interval", type=float, default=1.0, metavar="S")
    parser.add_argument("--http-port", type=int, default=0, metavar="N")
    parser.add_argument("--https-port", type=int, default=0, metavar="N")
    parser.add_argument("--serial", default=SimulatorOptions.serial)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    options = SimulatorOptions(
        serial=args.serial,
        http_port=args.http_port,
        https_port=args.https_port,
        push_interval=args.push_interval,
        fixture=args.fixture,
        seed=args.seed,
    )
    return run_standalone(lambda: HomeWizardSimulator(options), _banner)


def _banner(sim: HomeWizardSimulator) -> list[str]:
    return [
        f"HomeWizard P1 simulator ({sim.identifier})",
        f"  API v1:   {sim.http_url}/api/v1/data",
        f"  API v2:   {sim.https_url}/api/measurement   (WebSocket {sim.https_url}/api/ws)",
        f"  token:    {sim.token}",
        f"  CA file:  {sim.ca_file}",
        f"  pair:     curl -X POST {sim.http_url}/sim/button   (then POST /api/user)",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
