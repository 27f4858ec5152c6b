"""The synthetic household behind the HomeWizard simulator."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.sim.homewizard.household import Household

pytestmark = pytest.mark.clock

TZ = ZoneInfo("Europe/Stockholm")
SUMMER_DAY = dt.datetime(2025, 6, 14, tzinfo=TZ)
WINTER_DAY = dt.datetime(2025, 1, 15, tzinfo=TZ)
ENERGY_KEYS = (
    "energy_import_kwh",
    "energy_import_t1_kwh",
    "energy_import_t2_kwh",
    "energy_export_kwh",
    "energy_export_t1_kwh",
    "energy_export_t2_kwh",
)
V2_KEYS = {
    "protocol_version",
    "meter_model",
    "unique_id",
    "timestamp",
    "tariff",
    *ENERGY_KEYS,
    "power_w",
    *(f"power_l{n}_w" for n in (1, 2, 3)),
    *(f"voltage_l{n}_v" for n in (1, 2, 3)),
    "current_a",
    *(f"current_l{n}_a" for n in (1, 2, 3)),
    "frequency_hz",
    *(f"voltage_{k}_l{n}_count" for k in ("sag", "swell") for n in (1, 2, 3)),
    "any_power_fail_count",
    "long_power_fail_count",
    "average_power_15m_w",
    "monthly_power_peak_w",
    "monthly_power_peak_timestamp",
    "external",
}


def readings(
    household: Household, start: dt.datetime, hours: float, every_s: float = 60.0
) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
    for i in range(int(hours * 3600 / every_s)):
        now = start + dt.timedelta(seconds=i * every_s)
        yield now, household.measurement_v2(now)


def imbalance_a(m: dict[str, Any]) -> float:
    currents = [m[f"current_l{n}_a"] for n in (1, 2, 3)]
    return float(max(currents) - min(currents))


def test_same_seed_gives_the_same_history() -> None:
    a = [m for _, m in readings(Household(WINTER_DAY, seed=3), WINTER_DAY, 6, every_s=300)]
    b = [m for _, m in readings(Household(WINTER_DAY, seed=3), WINTER_DAY, 6, every_s=300)]
    c = [m for _, m in readings(Household(WINTER_DAY, seed=4), WINTER_DAY, 6, every_s=300)]
    assert a == b
    assert [m["power_w"] for m in a] != [m["power_w"] for m in c]


def test_history_does_not_depend_on_how_often_it_is_stepped() -> None:
    fine, coarse = Household(WINTER_DAY, seed=5), Household(WINTER_DAY, seed=5)
    end = WINTER_DAY + dt.timedelta(hours=3)
    for _ in readings(fine, WINTER_DAY, 3, every_s=7):
        pass
    a, b = fine.measurement_v2(end), coarse.measurement_v2(end)
    assert {k: v for k, v in a.items() if k not in ENERGY_KEYS} == {
        k: v for k, v in b.items() if k not in ENERGY_KEYS
    }
    for key in ENERGY_KEYS:  # summation order may move the last digit
        assert a[key] == pytest.approx(b[key], abs=0.002)


def test_payload_shape_and_rounding() -> None:
    m = Household(WINTER_DAY).measurement_v2(WINTER_DAY.replace(hour=12, minute=30, second=7))
    assert set(m) == V2_KEYS
    assert m["timestamp"] == "2025-01-15T12:30:07"  # local wall time, no zone
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", m["monthly_power_peak_timestamp"])
    for n in (1, 2, 3):
        assert isinstance(m[f"power_l{n}_w"], int)
        assert m[f"voltage_l{n}_v"] == round(m[f"voltage_l{n}_v"], 1)
        assert m[f"current_l{n}_a"] == round(m[f"current_l{n}_a"], 3)
    assert m["power_w"] == sum(m[f"power_l{n}_w"] for n in (1, 2, 3))  # net sum of phases
    assert m["current_a"] == pytest.approx(sum(abs(m[f"current_l{n}_a"]) for n in (1, 2, 3)))
    assert m["energy_import_kwh"] == pytest.approx(
        m["energy_import_t1_kwh"] + m["energy_import_t2_kwh"], abs=1e-9
    )


def test_tariff_follows_time_of_day() -> None:
    household = Household(WINTER_DAY)
    tariffs = {
        hour: household.measurement_v2(WINTER_DAY.replace(hour=hour))["tariff"]
        for hour in range(24)
    }
    assert tariffs == {hour: 1 if hour >= 22 or hour < 7 else 2 for hour in range(24)}


def test_imbalance_varies_over_a_day() -> None:
    household = Household(WINTER_DAY, seed=1)
    values = [imbalance_a(m) for _, m in readings(household, WINTER_DAY, 24)]
    assert min(values) < 1.5
    assert 6.0 < max(values) < 25.0
    assert statistics.pstdev(values) > 0.5


def test_energy_counters_never_decrease() -> None:
    household = Household(SUMMER_DAY, seed=2, sunny=True)
    previous: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    for _, m in readings(household, SUMMER_DAY, 24):
        first = first or m
        if previous is not None:
            for key in ENERGY_KEYS:
                assert m[key] >= previous[key], key
        previous = m
    assert first is not None and previous is not None
    assert previous["energy_import_kwh"] > first["energy_import_kwh"]
    assert previous["energy_export_kwh"] > first["energy_export_kwh"]


def test_exports_at_midday_on_a_pv_day() -> None:
    household = Household(SUMMER_DAY, seed=2, sunny=True)
    by_hour: dict[int, list[dict[str, Any]]] = {}
    for now, m in readings(household, SUMMER_DAY, 24, every_s=120):
        by_hour.setdefault(now.hour, []).append(m)
    midday = [m for hour in (11, 12, 13, 14) for m in by_hour[hour]]
    night = [m for hour in (0, 1, 2) for m in by_hour[hour]]
    assert sum(m["power_w"] < 0 for m in midday) > 0.8 * len(midday)
    assert all(m["power_w"] > 0 for m in night)
    assert midday[-1]["energy_export_t2_kwh"] > midday[0]["energy_export_t2_kwh"]
    assert all(m["energy_export_t1_kwh"] == night[0]["energy_export_t1_kwh"] for m in night)


def test_currents_carry_the_sign_of_power() -> None:
    household = Household(SUMMER_DAY, seed=2, sunny=True)
    seen_negative = False
    for _, m in readings(household, SUMMER_DAY, 24, every_s=300):
        for n in (1, 2, 3):
            power, current = m[f"power_l{n}_w"], m[f"current_l{n}_a"]
            assert (power > 0) == (current > 0) and (power < 0) == (current < 0), (n, m)
            seen_negative |= current < 0
    assert seen_negative


def test_voltage_drops_with_current_and_frequency_stays_near_50() -> None:
    household = Household(WINTER_DAY, seed=1)
    for _, m in readings(household, WINTER_DAY, 12, every_s=300):
        assert abs(m["frequency_hz"] - 50.0) <= 0.03
        for n in (1, 2, 3):
            expected = 235.0 - 0.15 * m[f"current_l{n}_a"]
            assert abs(m[f"voltage_l{n}_v"] - expected) < 1.3  # slow ripple + noise


def test_demand_peak_tracks_the_15_minute_average() -> None:
    household = Household(WINTER_DAY, seed=1)
    for now, m in readings(household, WINTER_DAY, 24, every_s=600):
        assert m["monthly_power_peak_w"] >= m["average_power_15m_w"] >= 0
        peak_at = dt.datetime.fromisoformat(m["monthly_power_peak_timestamp"])
        assert (peak_at.year, peak_at.month) == (2025, 1)
        assert peak_at <= now.replace(tzinfo=None)


def test_moving_backwards_is_ignored() -> None:
    household = Household(WINTER_DAY, seed=1)
    later = household.measurement_v2(WINTER_DAY + dt.timedelta(hours=1))
    household.step(WINTER_DAY)
    again = household.measurement_v2(WINTER_DAY + dt.timedelta(hours=1))
    assert again == later
