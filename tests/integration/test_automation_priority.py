"""All four at once: grid-loss shedding, a person's override, peak shaving and the price
schedule, each holding one tuyamock plug, and each letting go in its own time.

The plan comes from the exporter's own `Automation` (schedule + `PeakShaver` over real
`CapacityPeaks`) in this process, read by the receiver's loop instead of over HTTP (the HTTP
path is in test_automation_switching.py). Instants are pinned: a winter Wednesday 18:30."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.config import parse_config
from gridwatch.energy.automation import Automation
from gridwatch.energy.config import CapacityFeeConfig
from gridwatch.energy.peak_shaving import PeakShaver
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.receiver.app import Receiver
from gridwatch.receiver.model import AlertStatus, Notification
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.sim.tuya.local import TuyaLocalSim
from tests.receiver_fakes import grid_down_episode

pytestmark = [pytest.mark.integration, pytest.mark.clock]

STHLM = ZoneInfo("Europe/Stockholm")
FAST = {"connect_timeout": "0.5s", "connect_retries": 1, "retry_delay": 0, "stagger": "0.01s"}


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def grid_down(status: AlertStatus) -> Notification:
    day = (2026, 1, 14)
    return grid_down_episode(
        status, dt.datetime(*day, 17, 0, tzinfo=dt.UTC), dt.datetime(*day, 17, 40, tzinfo=dt.UTC)
    )


async def test_grid_loss_then_a_person_then_peak_shaving_then_the_schedule(
    tmp_path: Path,
) -> None:
    plugs = TuyaLocalSim()
    ev = plugs.add("ev_charger", on=False)
    boiler = plugs.add("boiler", on=False)
    floor = plugs.add("floor", on=True, groups=["heavy"])
    plugs.start()
    loads: list[dict[str, Any]] = [
        {"name": "ev", "plug": "ev_charger", "watts": 11000, "on_below": 1.0e6},
        {"name": "water_heater", "plug": "boiler", "watts": 3000, "on_below": 1.0e6},
        {"name": "floor_heating", "plug": "floor", "watts": 1500, "on_below": 1.0e6},
    ]
    config = parse_config(
        {
            "site": {"timezone": "Europe/Stockholm", "data_dir": str(tmp_path)},
            "automation": {
                "loads": loads,
                "peak_shaving": {"meter": "home", "loads": ["ev"], "margin_watts": 200},
            },
            "receiver": {
                "token": "t0ken",
                "port": 0,
                "tuya": {"plugs": plugs.configs()} | FAST,
                "actions": [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}],
            },
        }
    )
    assert config.automation is not None and config.automation.peak_shaving is not None
    peaks = CapacityPeaks(CapacityFeeConfig(price_per_kw=81.25, peaks=3), STHLM)
    for day in (11, 12, 13):  # counted peaks of 5 kW on three earlier days
        for q in range(4):
            peaks.add("home", at(2026, 1, day, 18) + q * 900, 1.25)
    for q in range(2):  # this hour so far: 2.5 kWh by 18:30
        peaks.add("home", at(2026, 1, 14, 18) + q * 900, 1.25)
    shaver = PeakShaver(
        config.automation.peak_shaving, config.automation.loads, peaks, STHLM, db=None
    )
    automation = Automation(config.automation, lambda _q: 1.0, lambda _d: [], STHLM, shaver)
    now = [at(2026, 1, 14, 18, 30)]

    async def fetch() -> dict[str, Any]:
        return {"now": now[0], "loads": automation.desired(now[0])}

    assert config.receiver is not None and config.receiver.tuya is not None
    tuya = TuyaActions(config.receiver.tuya, list(config.receiver.actions))
    r = Receiver(config, plugs=tuya, clock=lambda: now[0], fetch=fetch)
    assert r.scheduled is not None
    try:
        # The grid is down (floor shed), a person wants the boiler off for 12 minutes, and the
        # EV would make this hour a new peak (2.5 + 11.5 × ½ kWh > 5 − 0.2).
        r.outbox.accept(grid_down("firing"), now[0])
        await r.worker.run_actions()
        assert floor.on is False
        r.scheduled.override("boiler", False, 12 * 60, "anna")
        automation.on_power(now[0], 11500.0)
        assert shaver.last.shed == ("ev",)
        assert {d["load"]: d["reason"] for d in automation.desired(now[0])}["ev"] == (
            "peak_shaving"
        )
        await r.scheduled.tick()
        await r.worker.run_actions()
        # Every plug is off, each for its own reason, though the schedule wants all on.
        assert (ev.on, boiler.on, floor.on) == (False, False, False)

        # 18:40: the grid is back. The floor returns (it was on) and stays on by the plan.
        now[0] = at(2026, 1, 14, 18, 40)
        r.outbox.accept(grid_down("resolved"), now[0])
        await r.worker.run_actions()
        await r.scheduled.tick()
        await r.worker.run_actions()
        assert (ev.on, boiler.on, floor.on) == (False, False, True)

        # 18:45: the override is over; the boiler follows its schedule again. The EV stays
        # shed: with its 11 kW back the hour would end at 2.5 + 13 × ¼ = 5.75 kWh > 4.8.
        now[0] = at(2026, 1, 14, 18, 45)
        automation.on_power(now[0], 2000.0)
        assert shaver.last.shed == ("ev",)
        await r.scheduled.tick()
        await r.worker.run_actions()
        assert (ev.on, boiler.on, floor.on) == (False, True, True)

        # 19:00: a new hour — the EV comes back.
        now[0] = at(2026, 1, 14, 19, 0, 10)
        automation.on_power(now[0], 2000.0)
        assert shaver.last.shed == ()
        await r.scheduled.tick()
        await r.worker.run_actions()
        assert (ev.on, boiler.on, floor.on) == (True, True, True)
    finally:
        await r.stop()
        await tuya.close()
        plugs.stop()
