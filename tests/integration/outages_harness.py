"""The exporter with an outages section against the simulated be-svitlo operator on loopback.

The exporter runs for real (HTTP server, scheduler, /metrics, /api/v1/outages); only its clock is
a test clock, so "today", midnight and DST are chosen by the test instead of waited for.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.source import SourceKey
from gridwatch.sim.outages.operator import OutageOperatorSimulator
from gridwatch.sim.polling import wait_until
from gridwatch.sources.outages.schedule import KYIV
from tests.helpers import PROJECT_FIXTURES, Samples, load_json, value
from tests.integration.conftest import Running

FIX = PROJECT_FIXTURES / "outages"
Q = {"queue": "5.2"}
TODAY = {"queue": "5.2", "day": "today"}
TOMORROW = {"queue": "5.2", "day": "tomorrow"}
HOUR = 3600.0
P = "gridwatch_outage_schedule_"


def kyiv(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=KYIV).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = kyiv("2026-11-20T08:00")

    def __call__(self) -> float:
        return self.now

    def set(self, text: str) -> None:
        self.now = kyiv(text)


class Harness:
    def __init__(self, operator: OutageOperatorSimulator, clock: Clock, data_dir: Path) -> None:
        self.operator = operator
        self.clock = clock
        self.data_dir = data_dir
        self.exporters: list[Exporter] = []

    async def start(self, extra: dict[str, Any] | None = None, **outages: Any) -> Running:
        """An exporter polling the simulator; ``extra`` adds other config sections."""
        settings = {"queue": "5.2", "url": self.operator.url, "interval": "0.1s", **outages}
        config = parse_config(
            {
                "site": {"timezone": "Europe/Stockholm", "data_dir": str(self.data_dir)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "outages": settings,
                **(extra or {}),
            }
        )
        exporter = Exporter(config, clock=self.clock)
        await exporter.start()
        self.exporters.append(exporter)
        return Running(exporter)

    async def stop(self, gw: Running) -> None:
        await gw.exporter.stop()
        self.exporters.remove(gw.exporter)


@contextlib.asynccontextmanager
async def harness(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    clock = Clock()
    operator = OutageOperatorSimulator(clock=clock)
    await operator.start()
    running = Harness(operator, clock, tmp_path)
    try:
        yield running
    finally:
        for exporter in running.exporters:
            await exporter.stop()
        operator.delay = 0.0
        await operator.close()


def attempts(gw: Running, device: str = "5.2") -> int:
    health = gw.exporter.store.health_of(SourceKey("outages", device))
    return health.updates + sum(health.errors.values())


async def polls(gw: Running, count: int = 2, device: str = "5.2") -> Samples:
    """Wait until ``count`` more polls finished (succeeded or failed); returns a scrape."""
    target = attempts(gw, device) + count

    async def done() -> bool:
        return attempts(gw, device) >= target

    await wait_until(done, what=f"{count} outage polls")
    return await gw.scrape()


async def api(gw: Running) -> dict[str, Any]:
    status, body, headers = await gw.get("/api/v1/outages")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    result: dict[str, Any] = json.loads(body)
    return result


def serve(h: Harness, name: str, queue: str = "5.2") -> None:
    h.operator.set_payload(queue, load_json(FIX / name))


def up(s: Samples, device: str = "5.2") -> float | None:
    return value(s, "gridwatch_source_up", source="outages", device=device)


def errors(s: Samples, reason: str, device: str = "5.2") -> float:
    key = {"source": "outages", "device": device, "reason": reason}
    return value(s, "gridwatch_source_errors_total", **key) or 0


def schedule_series(s: Samples) -> list[str]:
    """Names of the schedule series present (info and the change counter always are)."""
    always = {P + "info", P + "changes_total"}
    return sorted({name for name, _ in s if name.startswith(P) and name not in always})
