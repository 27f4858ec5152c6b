"""Price schedules: the N cheapest quarters of a window, thresholds, runs, DST days, late and
missing prices. Every instant is pinned; nothing reads the machine's clock."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.energy.automation_config import AutomationConfig, LoadConfig
from gridwatch.energy.schedule import QUARTER, Decision, choose, plan, windows

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def load(**extra: Any) -> LoadConfig:
    base: dict[str, Any] = {
        "name": "water_heater",
        "plug": "boiler",
        "cheapest": {"quarters": 8, "window": {"start": "22:00", "end": "07:00"}},
    }
    return LoadConfig.model_validate(base | extra)


def day_quarters(day: dt.date) -> list[float]:
    start = dt.datetime.combine(day, dt.time(), STHLM).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), STHLM).timestamp()
    return [start + i * QUARTER for i in range(int((end - start) // QUARTER))]


def prices_for(days: list[dt.date], shape: Any = None) -> dict[float, float]:
    """A price per quarter: by default cheapest around 03:00 local, with a unique value each."""
    out: dict[float, float] = {}
    for day in days:
        for i, q in enumerate(day_quarters(day)):
            hour = dt.datetime.fromtimestamp(q, STHLM).hour
            out[q] = shape(q) if shape else 1.0 + abs(hour - 3) * 0.1 + i * 1e-4
    return out


def chosen(decisions: list[Decision]) -> list[float]:
    return [d.start for d in decisions if d.on]


def window_quarters(start: float, end: float) -> list[float]:
    return [start + i * QUARTER for i in range(int((end - start) // QUARTER))]


def test_window_across_midnight_picks_the_cheapest_quarters() -> None:
    days = [dt.date(2026, 1, 14), dt.date(2026, 1, 15)]
    prices = prices_for(days)
    start, end = at(2026, 1, 14, 22), at(2026, 1, 15, 7)
    quarters = window_quarters(start, end)
    assert len(quarters) == 36
    decisions = plan(load(), prices.get, quarters, at(2026, 1, 14, 13, 30), STHLM)
    on = chosen(decisions)
    assert len(on) == 8
    cheapest8 = sorted(quarters, key=lambda q: prices[q])[:8]
    assert sorted(on) == sorted(cheapest8)
    assert all(d.reason == "not_chosen" for d in decisions if not d.on)
    # Outside the window: off, "outside".
    noon = plan(load(), prices.get, [at(2026, 1, 15, 12)], at(2026, 1, 14, 13, 30), STHLM)
    assert noon[0].on is False and noon[0].reason == "outside"


@pytest.mark.parametrize(
    ("day", "night_quarters", "day_quarters_count"),
    [
        (dt.date(2026, 3, 28), 32, 92),  # spring: 02:00–02:59 does not exist on the 29th
        (dt.date(2026, 10, 24), 40, 100),  # autumn: 02:00–02:59 twice on the 25th
        (dt.date(2026, 1, 14), 36, 96),
    ],
)
def test_dst_nights_and_days(day: dt.date, night_quarters: int, day_quarters_count: int) -> None:
    nxt = day + dt.timedelta(days=1)
    (start, end), *_ = windows(load(), day, day, STHLM)
    assert (end - start) / QUARTER == night_quarters
    prices = prices_for([day, nxt])
    whole = load(cheapest={"quarters": 10, "window": {"start": "00:00", "end": "00:00"}})
    quarters = day_quarters(nxt)
    assert len(quarters) == day_quarters_count
    decisions = plan(whole, prices.get, quarters, at(day.year, day.month, day.day, 14), STHLM)
    assert len(decisions) == day_quarters_count
    on = chosen(decisions)
    assert len(on) == 10
    assert sorted(on) == sorted(sorted(quarters, key=lambda q: prices[q])[:10])
    # The night's plan covers exactly its real quarters, each once.
    night = plan(load(), prices.get, window_quarters(start, end), start - 3600, STHLM)
    assert len(chosen(night)) == 8


def test_minimum_run_length_gives_whole_runs() -> None:
    days = [dt.date(2026, 1, 14), dt.date(2026, 1, 15)]
    # Alternating cheap and dear quarters: without a minimum run the plan would flicker.
    prices = prices_for(days, lambda q: 1.0 if int(q // QUARTER) % 2 else 2.0)
    start, end = at(2026, 1, 14, 22), at(2026, 1, 15, 7)
    quarters = window_quarters(start, end)
    flicker = chosen(plan(load(), prices.get, quarters, start - 3600, STHLM))
    assert any(b - a > QUARTER for a, b in itertools.pairwise(flicker))
    runs_of_hour = chosen(plan(load(min_run="1h"), prices.get, quarters, start - 3600, STHLM))
    assert len(runs_of_hour) == 8
    runs: list[list[float]] = []
    for q in runs_of_hour:
        if runs and q == runs[-1][-1] + QUARTER:
            runs[-1].append(q)
        else:
            runs.append([q])
    assert all(len(run) >= 4 for run in runs)


def test_choose_takes_single_quarters_when_no_whole_run_is_left() -> None:
    prices = {0.0: 1.0, 900.0: 1.0, 2700.0: 0.5}  # a gap: no run of 3
    assert choose(prices, 3, 3) == {0.0, 900.0, 2700.0}


def test_latest_finish_ends_the_window_early() -> None:
    days = [dt.date(2026, 1, 14), dt.date(2026, 1, 15)]
    start, end = at(2026, 1, 14, 22), at(2026, 1, 15, 7)
    prices = prices_for(days, lambda q: 3.0 - (q - start) * 1e-6)
    quarters = window_quarters(start, end)
    # Prices fall all night: the cheapest would be 05:00–07:00; it must finish by 05:00.
    on = chosen(plan(load(latest_finish="05:00"), prices.get, quarters, start - 60, STHLM))
    assert len(on) == 8
    assert max(on) + QUARTER <= at(2026, 1, 15, 5)
    assert max(on) + QUARTER == at(2026, 1, 15, 5)


def test_on_below_and_off_above() -> None:
    day = dt.date(2026, 1, 14)
    prices = prices_for(
        [day], lambda q: 0.5 if dt.datetime.fromtimestamp(q, STHLM).hour < 6 else 4.0
    )
    threshold = LoadConfig.model_validate(
        {"name": "floor", "plug": "floor", "on_below": 1.0, "off_above": 3.0}
    )
    decisions = plan(threshold, prices.get, day_quarters(day), at(2026, 1, 13, 14), STHLM)
    assert [d.reason for d in decisions[:24]] == ["below"] * 24
    assert {d.reason for d in decisions[24:]} == {"above"}
    assert not any(d.on for d in decisions[24:])
    # off_above beats the cheapest rule too: a window of only dear quarters stays off.
    dear = plan(load(off_above=3.0), prices.get, day_quarters(day)[80:], at(2026, 1, 13, 14), STHLM)
    assert not any(d.on for d in dear)


def test_tomorrow_arriving_at_13_cet_re_plans_the_night() -> None:
    today, tomorrow = dt.date(2026, 1, 14), dt.date(2026, 1, 15)
    prices = prices_for([today])
    start, end = at(2026, 1, 14, 22), at(2026, 1, 15, 7)
    quarters = window_quarters(start, end)
    before = plan(load(), prices.get, quarters, at(2026, 1, 14, 12, 59, 30), STHLM)
    assert {d.reason for d in before} == {"waiting"}
    assert not any(d.on for d in before)
    prices.update(prices_for([tomorrow]))  # published at 13:00 CET
    after = plan(load(), prices.get, quarters, at(2026, 1, 14, 13, 0, 30), STHLM)
    assert len(chosen(after)) == 8
    assert all(dt.datetime.fromtimestamp(q, STHLM).date() == tomorrow for q in chosen(after))


def test_prices_missing_when_due_use_the_configured_fallback() -> None:
    today = dt.date(2026, 1, 14)
    prices = prices_for([today])  # tomorrow never published
    start, end = at(2026, 1, 14, 22), at(2026, 1, 15, 7)
    quarters = window_quarters(start, end)
    now = at(2026, 1, 15, 1)  # inside the window, past midnight
    decisions = plan(load(fallback="on"), prices.get, quarters, now, STHLM)
    tonight = [d for d in decisions if d.start < at(2026, 1, 15, 0)]
    past_midnight = [d for d in decisions if at(2026, 1, 15, 0) <= d.start <= now]
    later = [d for d in decisions if d.start > now]
    assert all(d.on and d.reason == "cheapest" for d in tonight)  # the 8 known quarters
    assert all(d.on and d.reason == "fallback" for d in past_midnight)
    assert all(not d.on and d.reason == "waiting" for d in later)
    off = plan(load(), prices.get, [now - now % QUARTER], now, STHLM)[0]
    assert (off.on, off.reason) == (False, "fallback")


def test_config_refuses_unquoted_times_and_unknown_shed_loads() -> None:
    with pytest.raises(ValueError, match="quotes"):
        load(cheapest={"quarters": 4, "window": {"start": 1320, "end": "07:00"}})
    with pytest.raises(ValueError, match="whole quarters"):
        load(min_run="10m")
    with pytest.raises(ValueError, match="unknown loads"):
        AutomationConfig.model_validate(
            {
                "loads": [{"name": "a", "plug": "p", "on_below": 1}],
                "peak_shaving": {"meter": "home", "loads": ["b"]},
            }
        )
