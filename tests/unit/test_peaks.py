"""Effektavgift: the month's counted hourly peaks and the fee (PROTOCOLS.md §4.2 examples)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.energy.config import CapacityFeeConfig, TariffConfig
from gridwatch.energy.cost import CostAccounting
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.energy.tariff import Tariff

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def use(peaks: CapacityPeaks, start: float, kwh: float, meter: str = "home") -> None:
    """``kwh`` imported in the clock hour starting at ``start``, in four quarters."""
    for q in range(4):
        peaks.add(meter, start + q * 900, kwh / 4)


def seom(**extra: object) -> CapacityPeaks:
    """SEOM: mean of the 3 highest hours on (distinct) helgfria vardagar 07–19,
    55.75 kr/kW Apr–Oct and 111.50 kr/kW Nov–Mar incl. VAT."""
    config = TariffConfig.model_validate(
        {
            "prices_include_vat": True,
            "capacity_fee": {
                "price_per_kw": 55.75,
                "winter_price_per_kw": 111.50,
                "peaks": 3,
                "weekdays_only": True,
                "hours": {"start": 7, "end": 19},
                **extra,
            },
        }
    )
    assert config.capacity_fee is not None
    tariff = Tariff(config, STHLM)
    return CapacityPeaks(config.capacity_fee, STHLM, tariff.capacity_price_per_kw)


def test_mean_of_three_highest_weekday_hours_on_distinct_days() -> None:
    peaks = seom(distinct_days=True)
    use(peaks, at(2026, 11, 2, 8), 5.0)  # Monday 08–09
    use(peaks, at(2026, 11, 2, 9), 6.0)  # same Monday: only the higher one counts
    use(peaks, at(2026, 11, 3, 18), 4.0)  # Tuesday 18–19: last hour inside 07–19
    use(peaks, at(2026, 11, 3, 19), 9.0)  # Tuesday 19–20: outside the window
    use(peaks, at(2026, 11, 4, 6), 9.5)  # Wednesday 06–07: outside the window
    use(peaks, at(2026, 11, 5, 12), 3.0)  # Thursday
    use(peaks, at(2026, 11, 7, 12), 8.0)  # Saturday: not a weekday
    use(peaks, at(2026, 11, 6, 10), 2.0)  # Friday: fourth, not counted
    now = at(2026, 11, 10)
    counted = peaks.peaks("home", now)
    assert [p.watts for p in counted] == pytest.approx([6000, 4000, 3000])
    assert counted[0].start == at(2026, 11, 2, 9)
    assert peaks.billed_watts("home", now) == pytest.approx(13000 / 3)
    assert peaks.fee("home", now) == pytest.approx(111.50 * 13 / 3)  # winter price


def test_without_distinct_days_one_day_can_hold_all_peaks() -> None:
    peaks = seom(distinct_days=False)
    use(peaks, at(2026, 5, 4, 8), 5.0)  # Monday
    use(peaks, at(2026, 5, 4, 9), 6.0)
    use(peaks, at(2026, 5, 4, 10), 4.5)
    use(peaks, at(2026, 5, 5, 10), 1.0)
    now = at(2026, 5, 6)
    assert [p.watts for p in peaks.peaks("home", now)] == pytest.approx([6000, 5000, 4500])
    assert peaks.fee("home", now) == pytest.approx(55.75 * (6 + 5 + 4.5) / 3)  # summer


def test_holidays_do_not_count() -> None:
    peaks = seom()
    use(peaks, at(2026, 12, 24, 12), 10.0)  # julafton, a Thursday
    use(peaks, at(2026, 12, 23, 12), 2.0)
    now = at(2026, 12, 28)
    assert [p.watts for p in peaks.peaks("home", now)] == pytest.approx([2000])


def test_night_hours_count_half_ellevio() -> None:
    rule = CapacityFeeConfig(price_per_kw=81.25, peaks=3, night_weight=0.5)
    peaks = CapacityPeaks(rule, STHLM, lambda _m: 81.25)
    use(peaks, at(2026, 11, 7, 23), 10.0)  # Saturday night: counts, at half → 5 kW
    use(peaks, at(2026, 11, 8, 3), 7.0)  # Sunday 03–04: night → 3.5 kW
    use(peaks, at(2026, 11, 8, 14), 6.0)  # Sunday day hour → 6 kW
    use(peaks, at(2026, 11, 9, 6), 4.0)  # 06–07 is day again → 4 kW
    now = at(2026, 11, 10)
    assert [p.watts for p in peaks.peaks("home", now)] == pytest.approx([6000, 5000, 4000])
    assert peaks.fee("home", now) == pytest.approx(81.25 * 5)


def test_only_complete_hours_count_and_current_hour_is_shown() -> None:
    rule = CapacityFeeConfig(price_per_kw=50, peaks=1)
    peaks = CapacityPeaks(rule, STHLM, lambda _m: 50.0)
    peaks.add("home", at(2026, 11, 2, 10), 1.5)  # 10:00–10:15
    peaks.add("home", at(2026, 11, 2, 10, 15), 0.5)
    now = at(2026, 11, 2, 10, 20)
    assert peaks.current_hour_watts("home", now) == pytest.approx(2000)
    assert peaks.peaks("home", now) == []
    assert peaks.fee("home", now) == 0.0
    assert peaks.current_hour_watts("home", at(2026, 11, 2, 11, 5)) == 0.0
    assert [p.watts for p in peaks.peaks("home", at(2026, 11, 2, 11))] == [2000]


def test_a_new_month_starts_empty_and_months_outside_the_rule_cost_nothing() -> None:
    rule = CapacityFeeConfig(price_per_kw=50, months=[11, 12, 1, 2, 3])
    peaks = CapacityPeaks(rule, STHLM, lambda _m: 50.0)
    use(peaks, at(2026, 3, 31, 12), 8.0)
    assert peaks.fee("home", at(2026, 3, 31, 23)) == pytest.approx(400)
    use(peaks, at(2026, 4, 1, 12), 3.0)
    assert peaks.peaks("home", at(2026, 4, 2)) == []
    assert peaks.fee("home", at(2026, 4, 2)) == 0.0
    use(peaks, at(2026, 3, 31, 13), 9.0)  # a late piece of March is ignored
    assert peaks.state("home") == {"month": "2026-04", "hours": [[at(2026, 4, 1, 12), 3.0]]}


def test_autumn_dst_day_has_two_separate_two_oclock_hours() -> None:
    rule = CapacityFeeConfig(price_per_kw=50, peaks=2, distinct_days=False)
    peaks = CapacityPeaks(rule, STHLM, lambda _m: 50.0)
    first = dt.datetime(2025, 10, 26, 0, tzinfo=dt.UTC).timestamp()  # 02:00 CEST
    second = first + 3600  # 02:00 CET
    use(peaks, first, 3.0)
    use(peaks, second, 2.0)
    counted = peaks.peaks("home", at(2025, 10, 27))
    assert [(p.start, p.watts) for p in counted] == [(first, 3000), (second, 2000)]


def test_peaks_from_meter_readings_persist_across_restart(tmp_path: Path) -> None:
    path = tmp_path / "gw.db"
    rule = CapacityFeeConfig(price_per_kw=50, peaks=1)

    def engine(db: StateDB) -> CostAccounting:
        return CostAccounting(
            lambda _slot: None, STHLM, db=db, peaks=CapacityPeaks(rule, STHLM, lambda _m: 50.0)
        )

    db = StateDB(path)
    acc = engine(db)
    t = at(2026, 11, 2, 9)
    acc.observe("home", t, 100.0, 0.0)
    acc.observe("home", t + 1800, 102.0, 0.0)  # 4 kW for half an hour
    acc.persist()
    db.close()
    db = StateDB(path)
    acc = engine(db)
    acc.observe("home", t + 3600, 104.0, 0.0)
    acc.realise_open()
    assert acc.peaks is not None
    assert acc.peaks.peaks("home", t + 3600)[0].watts == pytest.approx(4000)
    db.close()
