"""The demo's simulated operator: made-up schedules that change, and its HTTP controls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import Clock as ClockFn
from gridwatch.demo import builtin_config
from gridwatch.sim.outages import demo as outages_demo
from gridwatch.sim.outages.operator import OutageOperatorSimulator, Rotation
from tests.helpers import value
from tests.integration.conftest import Running
from tests.integration.outages_harness import Clock, polls

pytestmark = [pytest.mark.integration, pytest.mark.clock]
Q = {"queue": "5.2"}
P = "gridwatch_outage_schedule_"


@pytest.fixture
async def exporters() -> AsyncIterator[list[Exporter]]:
    started: list[Exporter] = []
    yield started
    for exporter in started:
        await exporter.stop()


async def test_demo_part_serves_both_days_for_the_configured_queue(
    tmp_path: Path, exporters: list[Exporter], clock: ClockFn
) -> None:
    base = builtin_config()
    assert base.outages is not None and base.outages.queue == "5.2"
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await outages_demo.demo_part(base, stack, clock)
        assert config.outages is not None and config.outages.url is not None
        assert config.outages.url.startswith("http://127.0.0.1:")
        assert "5.2" in lines[0]
        # Only this area: other areas' settings in demo.yml must not reach for real hosts here.
        only = parse_config(
            {
                "site": {"data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
            }
        ).model_copy(update={"outages": config.outages})
        exporter = Exporter(only, clock=clock)
        await exporter.start()
        exporters.append(exporter)
        gw = Running(exporter)
        s = await gw.wait_for(
            "the simulated schedule",
            lambda s: value(s, P + "day_published", queue="5.2", day="tomorrow") == 1,
        )
        assert value(s, P + "day_published", queue="5.2", day="today") == 1
        assert (value(s, P + "planned_outage_seconds", queue="5.2", day="today") or 0) > 0


async def test_rotating_schedule_changes_are_counted(
    tmp_path: Path, exporters: list[Exporter]
) -> None:
    clock = Clock()
    sim = OutageOperatorSimulator(clock=clock, rotation=Rotation(300))
    await sim.start()
    try:
        config = parse_config(
            {
                "site": {"data_dir": str(tmp_path)},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "outages": {"queue": "5.2", "url": sim.url, "interval": "0.1s"},
            }
        )
        exporter = Exporter(config, clock=clock)
        await exporter.start()
        exporters.append(exporter)
        gw = Running(exporter)
        s = await polls(gw, 2)
        assert value(s, P + "changes_total", **Q) == 0
        clock.now += 300  # the next rotation step moves every window by half an hour
        s = await polls(gw, 3)
        assert value(s, P + "changes_total", **Q) == 1
        assert value(s, P + "last_change_timestamp_seconds", **Q) == clock.now

        async with aiohttp.ClientSession() as session:
            async with session.post(f"{sim.url}/sim/mode", params={"mode": "forbidden"}) as r:
                assert r.status == 200
            async with session.post(f"{sim.url}/sim/mode", params={"mode": "nonsense"}) as r:
                assert r.status == 400
        s = await polls(gw, 2)
        key = {"source": "outages", "device": "5.2", "reason": "forbidden"}
        assert (value(s, "gridwatch_source_errors_total", **key) or 0) >= 1
    finally:
        await sim.close()
