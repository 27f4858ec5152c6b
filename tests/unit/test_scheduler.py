"""The scheduler keeps other sources running when one crashes, and logs a repeating crash once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from gridwatch.core.scheduler import Scheduler
from gridwatch.core.source import SourceContext, SourceError, SourceKey, poll_forever
from gridwatch.core.state import StateStore
from gridwatch.sim.polling import wait_until


class Crashing:
    key = SourceKey("test", "crashing")
    staleness = 10.0

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, ctx: SourceContext) -> None:
        self.runs += 1
        raise RuntimeError("bug in a source")


class Reading:
    def __init__(self, received_at: float) -> None:
        self.received_at = received_at


class Healthy:
    key = SourceKey("test", "healthy")
    staleness = 10.0

    async def run(self, ctx: SourceContext) -> None:
        async def poll() -> Reading:
            return Reading(0.0)

        await poll_forever(ctx, self.key, poll, 0.01, 1.0)


async def test_crashing_source_is_restarted_and_others_keep_running(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Scheduler, "restart_initial", 0.01)
    monkeypatch.setattr(Scheduler, "restart_max", 0.02)
    caplog.set_level(logging.INFO)
    store = StateStore()
    crashing, healthy = Crashing(), Healthy()
    task = asyncio.create_task(Scheduler(store, [crashing, healthy]).run())
    try:
        async with asyncio.timeout(10):
            while crashing.runs < 4 or store.health_of(healthy.key).updates < 4:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    bad = store.health_of(crashing.key)
    assert bad.up is False and bad.errors["internal"] >= 4
    assert store.health_of(healthy.key).up is True
    crash_logs = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert len(crash_logs) == 1 and crash_logs[0].exc_info is not None


async def test_poll_forever_times_out_a_hanging_poll() -> None:
    store = StateStore()
    key = SourceKey("test", "slow")

    async def hang() -> Reading:
        await asyncio.sleep(3600)
        return Reading(0.0)

    task = asyncio.create_task(poll_forever(store, key, hang, 0.05, 0.05))
    try:
        await wait_until(
            lambda: bool(store.register(key, 1).errors["timeout"]), timeout=10, every=0.01
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert store.health_of(key).last_error_reason == "timeout"


def test_source_error_reasons_are_bounded() -> None:
    with pytest.raises(ValueError, match="unknown source error reason"):
        SourceError("anything goes", "x")
