"""Load shedding with HomeWizard Energy Sockets: a switch backend next to Tuya.

The socket's local API v1 (``GET``/``PUT /api/v1/state``, ``{"power_on": …}``) switches the relay;
v2 has no socket state yet (PROTOCOLS-2.md §4.1). ``switch`` never raises for device trouble: an
unreachable socket is ``offline``, a refusal (``switch_lock`` on) is ``error``.
"""

from __future__ import annotations

import json

import aiohttp

from gridwatch import __version__
from gridwatch.receiver.homewizard.config import HomeWizardSwitches, SocketConfig
from gridwatch.receiver.model import Alert, PlugOutcome, PlugResult, PlugState
from gridwatch.receiver.rules import plan_rules
from gridwatch.receiver.tuya.config import ActionRule


class SocketError(Exception):
    def __init__(self, outcome: PlugOutcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome: PlugOutcome = outcome
        self.detail = detail


class HomeWizardActions:
    """Implements ``gridwatch.receiver.ports.PlugActions`` for Energy Sockets."""

    def __init__(self, config: HomeWizardSwitches, rules: list[ActionRule]) -> None:
        self._config = config
        self._rules = list(rules)
        self._sockets = {s.name: s for s in config.sockets}
        self._session: aiohttp.ClientSession | None = None

    @property
    def plug_names(self) -> frozenset[str]:
        return frozenset(self._sockets)

    @property
    def stagger_seconds(self) -> float:
        return self._config.stagger

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        return plan_rules(self._rules, self._config.groups, alert, self.plug_names)

    async def switch(self, plug: str, on: bool) -> PlugResult:
        socket = self._sockets.get(plug)
        if socket is None:
            return PlugResult(plug, on, "error", "no such socket in the configuration")
        before: bool | None = None
        try:
            if not on:  # remember whether it was on, so a restore leaves an off socket off
                before = await self._read(socket)
            answer = await self._request(socket, "PUT", {"power_on": on})
            if isinstance(answer, dict) and answer.get("power_on") not in (on, None):
                return PlugResult(plug, on, "error", "the socket did not take the new state")
        except SocketError as exc:
            return PlugResult(plug, on, exc.outcome, exc.detail, before)
        return PlugResult(plug, on, "ok", "", before)

    async def states(self) -> list[PlugState]:
        states = []
        for socket in self._config.sockets:
            group = ", ".join(socket.all_groups)
            try:
                states.append(PlugState(socket.name, group, await self._read(socket), "ok"))
            except SocketError as exc:
                states.append(PlugState(socket.name, group, None, exc.outcome, exc.detail))
        return states

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _read(self, socket: SocketConfig) -> bool:
        answer = await self._request(socket, "GET", None)
        value = answer.get("power_on") if isinstance(answer, dict) else None
        if not isinstance(value, bool):
            raise SocketError("error", "the socket sent no power_on state")
        return value

    async def _request(self, socket: SocketConfig, method: str, body: object) -> object:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._config.timeout),
                headers={"User-Agent": f"gridwatch/{__version__}"},
            )
        host = f"[{socket.host}]" if ":" in socket.host else socket.host
        url = f"http://{host}:{socket.http_port or 80}/api/v1/state"
        try:
            async with self._session.request(method, url, json=body) as response:
                text = (await response.content.read(64 * 1024)).decode("utf-8", "replace")
                if response.status == 403:
                    raise SocketError("error", "the local API is off: enable it in the app")
                if response.status != 200:
                    raise SocketError("error", f"HTTP {response.status}: {_reason(text)}")
                return json.loads(text)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise SocketError(
                "offline", f"no answer from {socket.host}: {type(exc).__name__}"
            ) from None
        except ValueError:
            raise SocketError("error", "the socket's answer is not JSON") from None


def _reason(text: str) -> str:
    try:
        error = json.loads(text).get("error", {})
        return str(error.get("description", ""))[:200]
    except (ValueError, AttributeError):
        return text[:200]
