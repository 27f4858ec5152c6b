"""A plug on the LAN, over the Tuya local protocol (tinytuya).

tinytuya is blocking and returns its errors as dicts instead of raising, so every call runs in a
thread under an overall asyncio timeout, and the error dicts become readable outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import tinytuya

from gridwatch.receiver.model import PlugOutcome
from gridwatch.receiver.tuya.config import LocalPlug, TuyaConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SwitchReading:
    """What a device said: its switch state (None when unknown) and how the call went; for a
    switch, also the state it had before (None when unknown)."""

    on: bool | None
    outcome: PlugOutcome
    detail: str = ""
    before: bool | None = None
    code: str = ""  # tinytuya's error code, when the call failed with one


def describe_error(reply: dict[str, Any], where: str) -> SwitchReading:
    """tinytuya's ``{"Err": "901", "Error": …}`` as an outcome a user can act on."""
    code = str(reply.get("Err", ""))
    if code == "901":
        return SwitchReading(None, "offline", f"connection refused by {where}", code=code)
    if code == "905":
        return SwitchReading(
            None, "offline", f"{where} unreachable (no answer to connect)", code=code
        )
    if code == "902":
        # The TCP connection worked but no reply came in time: on 3.1–3.3 how a wrong key or
        # version shows (the device stays silent), or a plug slower than connect_timeout.
        return SwitchReading(
            None,
            "error",
            f"no reply from {where} in time: check local_key and version (or the plug is "
            "slower than connect_timeout)",
            code=code,
        )
    if code == "914":
        return SwitchReading(
            None, "error", f"{where} rejected the session: check local_key and version", code=code
        )
    if code in {"900", "904"}:
        # A 3.1–3.3 device answers a wrongly encrypted command with something that will not
        # decrypt or parse.
        return SwitchReading(
            None,
            "error",
            f"{where} sent an unreadable reply: check local_key and version",
            code=code,
        )
    message = str(reply.get("Error", "unknown error"))
    return SwitchReading(None, "error", f"{where}: [{code or '?'}] {message}", code=code)


class LocalClient:
    """Switches and reads one local plug; each call opens (and closes) its own connection."""

    def __init__(self, plug: LocalPlug, tuya: TuyaConfig) -> None:
        self.plug = plug
        self._tuya = tuya
        self._where = f"{plug.address}:{plug.port}"
        # One call at a time per device: a Tuya plug serves a single connection, and a call
        # abandoned by the asyncio timeout may still be finishing in its thread.
        self._lock = threading.Lock()

    async def switch(self, on: bool, *, read_first: bool = False) -> SwitchReading:
        """Switch; with ``read_first`` the state before is read on the same connection (so
        load shedding can remember a plug that was already off)."""
        return await self._run(self._switch_blocking, on, read_first)

    async def read(self) -> SwitchReading:
        state = await self._run(self._read_blocking)
        if state.outcome == "ok" and state.on is None:
            return SwitchReading(
                None, "error", f"{self._where} did not report dp {self.plug.switch_dp} (switch_dp?)"
            )
        return state

    async def _run(self, call: Any, *args: Any) -> SwitchReading:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call, *args), self._tuya.timeout)
        except TimeoutError:
            return SwitchReading(
                None, "offline", f"{self._where}: no answer within {self._tuya.timeout:g} s"
            )

    def _device(self) -> tinytuya.OutletDevice:
        # Built per call inside the worker thread: the constructor of a 3.2 device already talks
        # to it. Never log this object: its repr contains the local key.
        return tinytuya.OutletDevice(
            self.plug.device_id,
            address=self.plug.address,
            local_key=self.plug.resolved_key(),
            version=float(self.plug.version),
            port=self.plug.port,
            connection_timeout=self._tuya.connect_timeout,
            connection_retry_limit=self._tuya.connect_retries,
            connection_retry_delay=self._tuya.retry_delay,
        )

    def _switch_blocking(self, on: bool, read_first: bool) -> SwitchReading:
        before: bool | None = None
        with self._lock:
            device = self._device()
            device.set_socketPersistent(True)  # one session for the read, switch and check
            try:
                if read_first:
                    earlier = self._state(device.status())
                    if earlier.outcome == "offline" and earlier.code in {"901", "905"}:
                        return earlier  # nobody there: do not wait for a second refusal
                    before = earlier.on
                reply = device.set_status(on, switch=self.plug.switch_dp)
                state = self._state(reply)
                if state.outcome == "ok" and state.on is None:
                    # CONTROL replies carry only changed dps; ask when the reply did not say.
                    state = self._state(device.status())
                elif state.code == "902":
                    # The reply was late, not necessarily the switch: ask what it did.
                    late = self._state(device.status())
                    if late.outcome == "ok" and late.on == on:
                        state = SwitchReading(on, "ok", "switched; its reply came late")
            finally:
                device.close()
        if state.outcome == "ok" and state.on != on:
            want = "on" if on else "off"
            return SwitchReading(
                state.on, "error", f"{self._where} stayed {_word(state.on)}, asked {want}"
            )
        return SwitchReading(state.on, state.outcome, state.detail, before, state.code)

    def _read_blocking(self) -> SwitchReading:
        with self._lock:
            device = self._device()
            try:
                return self._state(device.status())
            finally:
                device.close()

    def _state(self, reply: object) -> SwitchReading:
        if reply is None:
            return SwitchReading(None, "ok")
        if not isinstance(reply, dict):
            return SwitchReading(None, "error", f"{self._where}: unexpected reply")
        if "Err" in reply:
            return describe_error(reply, self._where)
        dps = reply.get("dps")
        if not isinstance(dps, dict):
            return SwitchReading(None, "ok")
        value = dps.get(str(self.plug.switch_dp))
        if value is None:
            return SwitchReading(None, "ok")
        if not isinstance(value, bool):
            return SwitchReading(
                None, "error", f"dp {self.plug.switch_dp} is {value!r}, not a switch (switch_dp?)"
            )
        return SwitchReading(value, "ok")


def _word(on: bool | None) -> str:
    return "unknown" if on is None else ("on" if on else "off")
