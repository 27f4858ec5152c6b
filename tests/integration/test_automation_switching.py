"""Scheduled loads end to end: the real exporter plans from the price simulator's prices, the
receiver reads the plan and switches tuyamock plugs through its outbox — once per change, not
again after a restart; grid-loss shedding and a person's override win over the plan.

The exporter and the price server share the test's clock; the loads' rules are chosen so the
plan is the same at any instant (`make test-clock`): "heater" is always below its threshold
(on), "floor" never (off)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import Clock
from gridwatch.receiver.app import Receiver
from gridwatch.receiver.model import AlertStatus, Notification
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sim.tuya.local import TuyaLocalSim
from tests.helpers import value
from tests.integration.conftest import Running
from tests.receiver_fakes import grid_down_episode

pytestmark = [pytest.mark.integration, pytest.mark.clock]

FAST = {"connect_timeout": "0.5s", "connect_retries": 1, "retry_delay": 0, "stagger": "0.01s"}


def settings(data_dir: Path, prices: PriceSimulator, plugs: TuyaLocalSim, exporter_url: str) -> Any:
    return parse_config(
        {
            "site": {"timezone": "Europe/Stockholm", "data_dir": str(data_dir)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "prices": {
                "area": "SE3",
                "elprisetjustnu_url": prices.elprisetjustnu_url,
                "nordpool_url": prices.nordpool_url,
            },
            "tariff": {"energy_tax_per_kwh": 0.36},
            "automation": {
                "exporter_url": exporter_url,
                "loads": [
                    {"name": "water_heater", "plug": "heater", "on_below": 1.0e6},
                    {"name": "floor_heating", "plug": "floor", "on_below": -1.0e6},
                ],
            },
            "receiver": {
                "token": "t0ken",
                "port": 0,
                "tuya": {"plugs": plugs.configs()} | FAST,
                "actions": [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}],
            },
        }
    )


def grid_down(status: AlertStatus) -> Notification:
    day = (2026, 1, 14)
    return grid_down_episode(
        status, dt.datetime(*day, 12, 0, tzinfo=dt.UTC), dt.datetime(*day, 13, 0, tzinfo=dt.UTC)
    )


async def test_the_plan_switches_plugs_once_and_yields_to_grid_loss_and_people(
    tmp_path: Path, clock: Clock
) -> None:
    plugs = TuyaLocalSim()
    heater = plugs.add("heater", on=False, groups=["heavy"])
    floor = plugs.add("floor", on=True, groups=["heavy"])
    plugs.start()
    later = [0.0]  # the receiver's clock runs ahead of the exporter's when an override expires

    def receiver_clock() -> float:
        return clock() + later[0]

    async with PriceSimulator(clock=clock) as prices:
        exporter = Exporter(settings(tmp_path, prices, plugs, "http://unused"), clock=clock)
        await exporter.start()
        receivers: list[Receiver] = []
        actions: list[TuyaActions] = []

        def receiver() -> Receiver:
            config = settings(tmp_path, prices, plugs, exporter.url)
            assert config.receiver is not None and config.receiver.tuya is not None
            tuya = TuyaActions(config.receiver.tuya, list(config.receiver.actions))
            actions.append(tuya)
            made = Receiver(config, plugs=tuya, clock=receiver_clock)
            receivers.append(made)
            return made

        try:
            gw = Running(exporter)
            s = await gw.wait_for(
                "the plan from today's prices",
                lambda s: (
                    value(s, "gridwatch_price_day_slots", area="SE3", day="today") is not None
                ),
            )
            assert (
                value(
                    s,
                    "gridwatch_load_desired_on",
                    load="water_heater",
                    plug="heater",
                    reason="below",
                )
                == 1
            )
            assert (
                value(
                    s,
                    "gridwatch_load_desired_on",
                    load="floor_heating",
                    plug="floor",
                    reason="outside",
                )
                == 0
            )
            slots = value(s, "gridwatch_price_day_slots", area="SE3", day="today")
            planned = [
                k
                for k in s
                if k[0] == "gridwatch_load_planned_on"
                and ("load", "water_heater") in k[1]
                and ("day", "today") in k[1]
            ]
            assert len(planned) == slots

            r = receiver()
            assert r.scheduled is not None
            assert len(await r.scheduled.tick()) == 2
            await r.worker.run_actions()
            assert (heater.on, floor.on) == (True, False)
            assert +r.stats.scheduled_switches == {"below": 1, "outside": 1}
            assert r.stats.plug_switches["ok"] == 2
            assert await r.scheduled.tick() == []  # nothing changed: no second switch
            await r.stop()

            # A restart: the plan is the same, the record of what was commanded survived.
            r = receiver()
            assert r.scheduled is not None
            assert await r.scheduled.tick() == []

            # The grid goes down: shedding wins, the plan does not switch the heater back on.
            r.outbox.accept(grid_down("firing"), receiver_clock())
            await r.worker.run_actions()
            assert (heater.on, floor.on) == (False, False)
            assert await r.scheduled.tick() == []
            assert heater.on is False
            # Restored: the heater comes back (it was on), and the plan is asserted again.
            r.outbox.accept(grid_down("resolved"), receiver_clock())
            await r.worker.run_actions()
            assert heater.on is True
            assert len(await r.scheduled.tick()) == 2
            await r.worker.run_actions()
            assert (heater.on, floor.on) == (True, False)

            # A person switches the heater off for an hour: the plan leaves it off ...
            r.scheduled.override("heater", False, 3600, "anna")
            await r.worker.run_actions()
            assert heater.on is False
            assert await r.scheduled.tick() == []
            assert heater.on is False
            # ... until the hour is over.
            later[0] = 3601.0
            assert len(await r.scheduled.tick()) == 1
            await r.worker.run_actions()
            assert heater.on is True
        finally:
            for made in receivers:
                await made.stop()
            for tuya in actions:
                await tuya.close()
            await exporter.stop()
            plugs.stop()


async def test_the_exporter_down_switches_nothing(tmp_path: Path, clock: Clock) -> None:
    plugs = TuyaLocalSim()
    heater = plugs.add("heater", on=False, groups=["heavy"])
    plugs.add("floor", on=True, groups=["heavy"])
    plugs.start()
    async with PriceSimulator(clock=clock) as prices:
        config = settings(tmp_path, prices, plugs, "http://127.0.0.1:9")  # nothing listens
        r = Receiver(config, clock=clock)
        try:
            assert r.scheduled is not None
            assert await r.scheduled.tick() == []
            assert await r.scheduled.tick() == []
            assert r.scheduled.fetch_errors == 2
            assert r.stats.plan_read_errors == 2
            assert heater.on is False
        finally:
            await r.stop()
            plugs.stop()
