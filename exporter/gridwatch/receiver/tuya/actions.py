"""Load shedding with Tuya plugs: the receiver's ``PlugActions``.

Rules over alert labels choose the plugs (``plan``); ``switch`` drives one plug over its backend
and reports ok / offline / error instead of raising, so one dead plug never stops the others.
The worker logs and counts the results; this module only produces them.
"""

from __future__ import annotations

import asyncio

from gridwatch.receiver.model import Alert, PlugResult, PlugState
from gridwatch.receiver.rules import plan_rules
from gridwatch.receiver.tuya.cloud import CloudError, DeviceState, TuyaCloud
from gridwatch.receiver.tuya.config import (
    ActionRule,
    CloudPlug,
    LocalPlug,
    TuyaConfig,
    validate_rules,
)
from gridwatch.receiver.tuya.local import LocalClient, SwitchReading


class TuyaActions:
    """Implements ``gridwatch.receiver.ports.PlugActions``."""

    def __init__(self, tuya: TuyaConfig, rules: list[ActionRule]) -> None:
        validate_rules(tuya, rules)  # config validation already did this; a guard for callers
        self._tuya = tuya
        self._rules = list(rules)
        self._plugs = {plug.name: plug for plug in tuya.plugs}
        self._groups = tuya.groups
        self._local = {p.name: LocalClient(p, tuya) for p in tuya.plugs if isinstance(p, LocalPlug)}
        self._cloud = TuyaCloud(tuya.cloud) if tuya.cloud is not None else None

    @property
    def stagger_seconds(self) -> float:
        return self._tuya.stagger

    @property
    def plug_names(self) -> frozenset[str]:
        return frozenset(self._plugs)

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        """Every matching rule's plugs in rule order, each plug's groups in config order. A plug
        named by two rules is switched once, as the first rule says."""
        return plan_rules(self._rules, self._groups, alert, self._plugs.keys())

    async def switch(self, plug: str, on: bool) -> PlugResult:
        config = self._plugs.get(plug)
        if config is None:
            # Work in the outbox can outlive a config change that removed the plug.
            return PlugResult(plug, on, "error", "no such plug in the configuration")
        if isinstance(config, LocalPlug):
            reading = await self._local[plug].switch(on, read_first=not on)
        else:
            reading = await self._cloud_switch(config, on)
        return PlugResult(plug, on, reading.outcome, reading.detail, reading.before)

    async def states(self) -> list[PlugState]:
        cloud_states: dict[str, DeviceState] | CloudError | None = None
        cloud = self._tuya.cloud
        has_cloud_plugs = any(isinstance(p, CloudPlug) for p in self._tuya.plugs)
        if cloud is not None and cloud.user_id and self._cloud is not None and has_cloud_plugs:
            try:
                cloud_states = await asyncio.wait_for(
                    self._cloud.user_devices(cloud.user_id), self._tuya.timeout
                )
            except CloudError as exc:
                cloud_states = exc
            except TimeoutError:
                cloud_states = CloudError("Tuya cloud: no answer in time")
        readings = await asyncio.gather(*(self._read(p, cloud_states) for p in self._tuya.plugs))
        return [
            PlugState(p.name, ", ".join(p.all_groups), r.on, r.outcome, r.detail)
            for p, r in zip(self._tuya.plugs, readings, strict=True)
        ]

    async def close(self) -> None:
        if self._cloud is not None:
            await self._cloud.close()

    async def _read(
        self, plug: LocalPlug | CloudPlug, listed: dict[str, DeviceState] | CloudError | None
    ) -> SwitchReading:
        if isinstance(plug, LocalPlug):
            return await self._local[plug.name].read()
        if isinstance(listed, CloudError):
            return SwitchReading(None, "error", str(listed))
        if listed is not None:
            state = listed.get(plug.device_id)
            if state is None:
                return SwitchReading(None, "error", "not among the app account's devices")
            return _cloud_reading(plug, state)
        assert self._cloud is not None  # a cloud plug needs tuya.cloud (config check)
        try:
            state = await asyncio.wait_for(self._cloud.device(plug.device_id), self._tuya.timeout)
        except CloudError as exc:
            return SwitchReading(None, "offline" if exc.offline else "error", str(exc))
        except TimeoutError:
            return SwitchReading(None, "error", "Tuya cloud: no answer in time")
        return _cloud_reading(plug, state)

    async def _cloud_switch(self, plug: CloudPlug, on: bool) -> SwitchReading:
        assert self._cloud is not None  # a cloud plug needs tuya.cloud (config check)
        try:
            await asyncio.wait_for(
                self._cloud.switch(plug.device_id, plug.switch_code, on), self._tuya.timeout
            )
        except CloudError as exc:
            return SwitchReading(None, "offline" if exc.offline else "error", str(exc))
        except TimeoutError:
            return SwitchReading(None, "error", "Tuya cloud: no answer in time")
        return SwitchReading(on, "ok")


def _cloud_reading(plug: CloudPlug, state: DeviceState) -> SwitchReading:
    if not state.online:
        # The cloud keeps the last data points of an offline device: they are not its state now.
        return SwitchReading(None, "offline", "the Tuya cloud reports the device offline")
    value = state.status.get(plug.switch_code)
    if not isinstance(value, bool):
        return SwitchReading(None, "error", f"the device has no switch {plug.switch_code!r}")
    return SwitchReading(value, "ok")
