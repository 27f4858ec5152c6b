"""The exporter's automation metrics: one planned series per quarter of today and tomorrow (92
and 100 on the DST days, labelled like the price slots), and the wanted state now with its
reason. Instants are pinned."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.core import Metric

from gridwatch.core.state import StateStore
from gridwatch.energy.automation import Automation
from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.energy.schedule import QUARTER

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def quarters(day: dt.date) -> list[float]:
    start = dt.datetime.combine(day, dt.time(), STHLM).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), STHLM).timestamp()
    return [start + i * QUARTER for i in range(int((end - start) // QUARTER))]


def families(now: float, known: set[dt.date]) -> dict[str, Metric]:
    config = AutomationConfig.model_validate(
        {
            "loads": [
                {
                    "name": "water_heater",
                    "plug": "boiler",
                    "cheapest": {"quarters": 8, "window": {"start": "22:00", "end": "07:00"}},
                }
            ]
        }
    )

    def price_of(q: float) -> float | None:
        local = dt.datetime.fromtimestamp(q, STHLM)
        return 1.0 + local.hour / 10 if local.date() in known else None

    def slots(day: dt.date) -> list[float]:
        return quarters(day) if day in known else []

    automation = Automation(config, price_of, slots, STHLM)
    return {m.name: m for m in automation(StateStore(), now)}


@pytest.mark.parametrize(
    ("today", "count_today", "count_tomorrow"),
    [
        (dt.date(2026, 3, 28), 96, 92),
        (dt.date(2026, 10, 25), 100, 96),
    ],
)
def test_a_planned_series_for_every_quarter_of_today_and_tomorrow(
    today: dt.date, count_today: int, count_tomorrow: int
) -> None:
    tomorrow = today + dt.timedelta(days=1)
    got = families(at(today.year, today.month, today.day, 14), {today, tomorrow})
    planned = got["gridwatch_load_planned_on"].samples
    by_day = {d: [s for s in planned if s.labels["day"] == d] for d in ("today", "tomorrow")}
    assert len(by_day["today"]) == count_today
    assert len(by_day["tomorrow"]) == count_tomorrow
    slots = [s.labels["slot"] for s in by_day["today"]]
    assert len(set(slots)) == len(slots)  # 02:00b … on the autumn day: no label twice
    on = [s for s in planned if s.value == 1]
    # The night from today 22:00: 8 quarters, all after midnight (00:00–01:45 are cheapest).
    assert len([s for s in on if s.labels["day"] == "tomorrow"]) == 8
    assert all(s.labels["reason"] == "cheapest" for s in on)


def test_the_wanted_state_now_and_tomorrow_not_yet_published() -> None:
    today = dt.date(2026, 1, 14)
    got = families(at(2026, 1, 14, 12, 59, 30), {today})
    (now,) = got["gridwatch_load_desired_on"].samples
    assert now.labels == {"load": "water_heater", "plug": "boiler", "reason": "outside"}
    assert now.value == 0
    planned = got["gridwatch_load_planned_on"].samples
    tonight = [s for s in planned if s.labels["slot"] >= "22:00" and s.labels["day"] == "today"]
    assert {s.labels["reason"] for s in tonight} == {"waiting"}
    # Tomorrow's quarters exist as "waiting" too, so the dashboard shows the gap.
    assert {s.labels["reason"] for s in planned if s.labels["day"] == "tomorrow"} == {"waiting"}
