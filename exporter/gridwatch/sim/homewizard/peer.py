"""What every simulated HomeWizard device shares: API v1 over HTTP and v2 over HTTPS on loopback,
a device certificate from the simulator's CA (``appliance/<type>/<serial>``), the v2 token store,
and the Plug-In Battery group that P1 and kWh meters report on ``/api/batteries``.

The P1 meter (``simulator.py``) and the other devices (``device.py``) add their own routes through
``_http_app`` and ``_https_app``, and whatever else they run through the start/stop hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ipaddress
import shutil
import ssl
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from gridwatch import children
from gridwatch.sim.homewizard.certs import (
    CertAuthority,
    device_identifier,
    generate_ca,
    server_ssl_context,
)
from gridwatch.sim.homewizard.users import UserStore, new_token, v2_error
from gridwatch.sim.service import LoopbackService

__all__ = ["BATTERIES", "HomeWizardPeer", "run_standalone"]

# GET /api/batteries of a meter controlling one Plug-In Battery (PROTOCOLS-2.md §4.3).
BATTERIES: dict[str, Any] = {"mode": "zero", "permissions": ["charge_allowed", "discharge_allowed"],
                             "battery_count": 1, "power_w": -404, "target_power_w": -400,
                             "max_consumption_w": 800, "max_production_w": 800}  # fmt: skip


class HomeWizardPeer(LoopbackService):
    """Ports, certificate, tokens and start-up of one simulated device; ``async with`` works."""

    def __init__(
        self,
        *,
        host: str,
        http_port: int,
        https_port: int,
        serial: str,
        cert_type: str,
        token: str | None,
        button_window: float,
        ca: CertAuthority | None,
        batteries: dict[str, Any] | None = None,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:  # a known token: never on a LAN
            raise ValueError(f"the simulator only binds loopback addresses, not {host!r}")
        self.host, self.http_port, self.https_port = host, http_port, https_port
        self.identifier = device_identifier(serial, cert_type)
        self._ca = ca or generate_ca("gridwatch simulator CA")
        self._dir = Path(tempfile.mkdtemp(prefix=children.temp_prefix("sim")))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self.ca_file = self._ca.write(self._dir / "ca.pem")
        self._ssl = server_ssl_context(self._ca.issue_device(serial, cert_type), self._dir)
        self._users = UserStore(token or new_token(), button_window)
        # What GET /api/batteries answers; None = the device has no battery group (404).
        self.batteries = copy.deepcopy(batteries)
        self._runners: list[web.AppRunner] = []

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://{self.host}:{self.https_port}"

    @property
    def token(self) -> str:
        """The pre-paired token; valid for the simulator's whole life."""
        return self._users.preset_token

    def press_button(self) -> None:
        """Open the user-creation window, as a short press on the device does."""
        self._users.press_button()

    async def start(self) -> None:
        """Bind both ports (the same ones again after a ``stop``), then the subclass's extras."""
        if self._runners:
            return
        self._dir.mkdir(exist_ok=True)
        self._ca.write(self.ca_file)  # in case close() removed it
        try:
            self.http_port = await self._serve(self._http_app(), self.http_port, None)
            self.https_port = await self._serve(self._https_app(), self.https_port, self._ssl)
        except BaseException:
            await self.stop()
            raise
        await self._started()

    async def stop(self) -> None:
        """Close the listeners; state (tokens, counters) survives for a later ``start``."""
        await self._stopping()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def close(self) -> None:
        """Stop and remove the temporary directory holding the CA file and device key."""
        await self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    # -- for subclasses ---------------------------------------------------------------------------

    def _http_app(self) -> web.Application:
        raise NotImplementedError

    def _https_app(self) -> web.Application:
        raise NotImplementedError

    async def _started(self) -> None:
        """After both ports listen (the P1 meter starts pushing here)."""

    async def _stopping(self) -> None:
        """Before the listeners close (the P1 meter closes its WebSockets here)."""

    def _batteries_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/batteries", self._v2_batteries)]

    async def _v2_batteries(self, _request: web.Request) -> web.Response:
        if self.batteries is None:  # firmware without the endpoint
            return v2_error(404, "request:not-found")
        return web.json_response(self.batteries)

    async def _button(self, _request: web.Request) -> web.Response:
        self.press_button()
        return web.json_response({"button_window_s": self._users.button_window})

    async def _serve(self, app: web.Application, port: int, tls: ssl.SSLContext | None) -> int:
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port, ssl_context=tls).start()
        bound: int = runner.addresses[0][1]
        return bound


def run_standalone[S: HomeWizardPeer](
    make: Callable[[], S], banner: Callable[[S], list[str]]
) -> int:
    """Run one simulator in the foreground until Ctrl-C: the modules' ``main``."""

    async def serve() -> None:
        async with make() as sim:
            print("\n".join([*banner(sim), "Ctrl-C to stop."]), flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0
