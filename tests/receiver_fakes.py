"""Recording implementations of the receiver's seams (Notifier, PlugActions) and a fake clock.

They stand in for Telegram and Tuya in the core's tests; the real integrations are tested
against their fake peers in their own test files.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import MutableSet, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridwatch.receiver.model import Alert, AlertStatus, Notification, PlugResult, PlugState
from gridwatch.receiver.ports import DeliveryError
from tests.helpers import PROJECT_FIXTURES

AM_FIXTURES = PROJECT_FIXTURES / "alertmanager"
TOKEN = "s3cr3t-token"  # what the captured payloads were sent with


def am_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((AM_FIXTURES / name).read_text(encoding="utf-8"))
    return data


def griddown(status: str = "firing", starts: str = "2026-11-22T05:39:34.244648Z") -> dict[str, Any]:
    """The captured GridDown payload, optionally as its resolution or a later episode."""
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["status"] = status
    alert = data["alerts"][0]
    alert["status"] = status
    alert["startsAt"] = starts
    if status == "resolved":
        alert["endsAt"] = "2026-11-22T06:10:00Z"
    return data


def grid_down_episode(status: AlertStatus, starts: dt.datetime, ends: dt.datetime) -> Notification:
    """One GridDown alert as the receiver holds it after the webhook; ``ends`` once resolved."""
    alert = Alert(
        status=status,
        labels={"alertname": "GridDown"},
        annotations={},
        starts_at=starts,
        ends_at=None if status == "firing" else ends,
        fingerprint="0bad",
    )
    return Notification("gridwatch", status, (alert,))


class FakeClock:
    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class RecordingNotifier:
    """Records every notify(); fails with the queued errors first (None = succeed)."""

    failures: list[DeliveryError | Exception | None] = field(default_factory=list)
    attempts: list[tuple[Notification, list[PlugResult]]] = field(default_factory=list)
    delivered: list[tuple[Notification, list[PlugResult]]] = field(default_factory=list)
    clock: FakeClock | None = None
    attempt_times: list[float] = field(default_factory=list)
    targets: tuple[str, ...] = ("chat",)
    problem: str | None = None
    broken: dict[str, DeliveryError] = field(default_factory=dict)  # target → fails every time
    by_target: list[tuple[str | None, Notification]] = field(default_factory=list)  # delivered

    async def notify(
        self,
        notification: Notification,
        plugs: Sequence[PlugResult],
        progress: MutableSet[str] | None = None,
        target: str | None = None,
    ) -> None:
        self.attempts.append((notification, list(plugs)))
        if self.clock is not None:
            self.attempt_times.append(self.clock())
        if target in self.broken:
            raise self.broken[target]
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure
        self.delivered.append((notification, list(plugs)))
        self.by_target.append((target, notification))


@dataclass
class RecordingPlugs:
    """Rules: GridDown firing switches ``group`` off, its resolution on again, in order."""

    group: tuple[str, ...] = ("boiler", "heater", "pump")
    stagger: float = 5.0
    offline: set[str] = field(default_factory=set)
    switched: list[tuple[str, bool]] = field(default_factory=list)
    block_on: str | None = None  # switch() of this plug never returns (to stop mid-work)
    off_by_hand: set[str] = field(default_factory=set)  # already off before any switch

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        if alert.name != "GridDown":
            return []
        return [(plug, alert.status == "resolved") for plug in self.group]

    async def switch(self, plug: str, on: bool) -> PlugResult:
        if plug == self.block_on:
            await asyncio.Event().wait()
        self.switched.append((plug, on))
        if plug in self.offline:
            return PlugResult(plug, on, "offline", "no answer")
        was_on = plug not in self.off_by_hand
        if on:
            self.off_by_hand.discard(plug)
        else:
            self.off_by_hand.add(plug)
        return PlugResult(plug, on, "ok", was_on=None if on else was_on)

    @property
    def stagger_seconds(self) -> float:
        return self.stagger

    async def states(self) -> list[PlugState]:
        return [PlugState(p, "heavy", None, "offline") for p in self.group]


def receiver_config(data_dir: Path, **receiver: Any) -> dict[str, Any]:
    return {
        "site": {"data_dir": str(data_dir)},
        "receiver": {"listen_address": "127.0.0.1", "port": 0, "token": TOKEN, **receiver},
    }
