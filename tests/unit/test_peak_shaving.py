"""Peak shaving: an hour that would set a new counted peak sheds loads in order, one that would
not sheds nothing, and a restart inside the hour keeps what was shed. Instants are pinned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.energy.automation import Automation
from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.energy.config import CapacityFeeConfig
from gridwatch.energy.peak_shaving import PeakShaver, predict
from gridwatch.energy.peaks import CapacityPeaks

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def use(peaks: CapacityPeaks, start: float, kwh: float, quarters: int = 4) -> None:
    for q in range(quarters):
        peaks.add("home", start + q * 900, kwh / quarters)


def ellevio() -> CapacityPeaks:
    rule = CapacityFeeConfig(price_per_kw=81.25, peaks=3, night_weight=0.5)
    peaks = CapacityPeaks(rule, STHLM, lambda _m: 81.25)
    # The month so far: counted peaks 5, 6 and 7 kW on three earlier days.
    use(peaks, at(2026, 1, 12, 18), 5.0)
    use(peaks, at(2026, 1, 13, 8), 6.0)
    use(peaks, at(2026, 1, 13, 18), 4.0)  # same day as 6 kW: not counted
    use(peaks, at(2026, 1, 11, 17), 7.0)
    return peaks


def automation(**shaving: object) -> AutomationConfig:
    return AutomationConfig.model_validate(
        {
            "loads": [
                {"name": "ev", "plug": "ev", "watts": 3700, "on_below": 10},
                {"name": "heater", "plug": "boiler", "watts": 2000, "on_below": 10},
            ],
            "peak_shaving": {"meter": "home", "loads": ["ev", "heater"], "margin_watts": 200}
            | shaving,
        }
    )


def shaver(peaks: CapacityPeaks, db: StateDB | None = None) -> PeakShaver:
    config = automation()
    assert config.peak_shaving is not None
    return PeakShaver(config.peak_shaving, config.loads, peaks, STHLM, db)


def test_prediction_is_energy_so_far_plus_present_power_for_the_rest() -> None:
    assert predict(2500.0, 6000.0, at(2026, 1, 14, 18, 30), at(2026, 1, 14, 18), 1.0) == 5500.0
    assert predict(2500.0, 6000.0, at(2026, 1, 14, 18, 30), at(2026, 1, 14, 18), 0.5) == 2750.0


def test_an_hour_that_would_set_a_new_peak_sheds_in_order_until_under() -> None:
    peaks = ellevio()
    use(peaks, at(2026, 1, 14, 18), 2.5, quarters=2)  # 18:00–18:30: 2.5 kWh
    s = shaver(peaks)
    result = s.evaluate(at(2026, 1, 14, 18, 30), 6000.0)
    # Lowest counted peak 5 kW, margin 0.2: 2.5 + 6 × ½ = 5.5 kWh would beat it.
    assert result.limit_watts == 4800.0
    assert result.shed == ("ev",)  # the EV alone is enough: 2.5 + 2.3 × ½ = 3.65
    assert result.predicted_watts == pytest.approx(3650.0)
    # The EV off, the power now 2.3 kW: it stays off (back on it would be 5.0 > 4.8) ...
    assert s.evaluate(at(2026, 1, 14, 18, 35), 2300.0).shed == ("ev",)
    # ... until the rest of the hour is short enough for it, then it comes back.
    later = s.evaluate(at(2026, 1, 14, 18, 45), 2300.0)
    assert later.shed == () and not later.active
    # A bigger load appears: both go, in order (2.5 + 16 × 14/60 = 6.23; −EV 5.37; −heater 4.90).
    s.evaluate(at(2026, 1, 14, 18, 46), 16000.0)
    assert s.last.shed == ("ev", "heater")
    # A new hour restores everything (within the hour 3 kW + the heater's 2 would not fit).
    assert s.evaluate(at(2026, 1, 14, 19, 0, 5), 3000.0).shed == ()


def test_an_hour_under_the_counted_peaks_sheds_nothing() -> None:
    peaks = ellevio()
    use(peaks, at(2026, 1, 14, 18), 1.0, quarters=2)
    result = shaver(peaks).evaluate(at(2026, 1, 14, 18, 30), 4000.0)  # 1 + 2 = 3 kWh
    assert result.shed == () and result.predicted_watts == pytest.approx(3000.0)


def test_night_hours_count_at_their_weight() -> None:
    peaks = ellevio()
    use(peaks, at(2026, 1, 14, 23), 2.5, quarters=2)
    # 5.5 kWh at night counts as 2.75 kW: no new peak, nothing shed.
    result = shaver(peaks).evaluate(at(2026, 1, 14, 23, 30), 6000.0)
    assert result.shed == () and result.predicted_watts == pytest.approx(2750.0)


def test_a_load_its_schedule_keeps_off_brings_no_relief() -> None:
    peaks = ellevio()
    use(peaks, at(2026, 1, 14, 18), 2.5, quarters=2)
    result = shaver(peaks).evaluate(at(2026, 1, 14, 18, 30), 6000.0, lambda n: n != "ev")
    assert result.shed == ("heater",)


def test_early_in_the_month_shaves_only_above_the_configured_floor() -> None:
    rule = CapacityFeeConfig(price_per_kw=81.25, peaks=3)
    peaks = CapacityPeaks(rule, STHLM)
    use(peaks, at(2026, 1, 2, 18), 3.0)
    use(peaks, at(2026, 1, 3, 18), 0.5, quarters=2)
    config = automation()
    assert config.peak_shaving is not None
    plain = PeakShaver(config.peak_shaving, config.loads, peaks, STHLM)
    assert plain.evaluate(at(2026, 1, 3, 18, 30), 9000.0).shed == ()
    floored = automation(early_month_watts=4000)
    assert floored.peak_shaving is not None
    s = PeakShaver(floored.peak_shaving, floored.loads, peaks, STHLM)
    # One counted hour of three: 0.5 + 9 × ½ = 5 kWh is over 4 − 0.2; without the EV, 3.15.
    assert s.evaluate(at(2026, 1, 3, 18, 30), 9000.0).shed == ("ev",)


def test_a_restart_inside_the_hour_keeps_the_loads_shed(tmp_path: Path) -> None:
    peaks = ellevio()
    use(peaks, at(2026, 1, 14, 18), 2.5, quarters=2)
    db = StateDB(tmp_path / "gridwatch.db")
    assert shaver(peaks, db).evaluate(at(2026, 1, 14, 18, 30), 6000.0).shed == ("ev",)
    db.close()
    # Restarted at 18:35 with the EV still off (2.3 kW): without memory it would come back on
    # at once and the hour would end at 5.0 kW, a new peak.
    forgetful = shaver(peaks)
    assert forgetful.evaluate(at(2026, 1, 14, 18, 35), 2300.0).shed == ()
    db = StateDB(tmp_path / "gridwatch.db")
    again = shaver(peaks, db)
    assert again.last.shed == ("ev",)
    assert again.evaluate(at(2026, 1, 14, 18, 35), 2300.0).shed == ("ev",)
    db.close()
    # Restarted in the next hour: what was shed then is forgotten — even before the first
    # reading, the plan no longer says peak_shaving.
    db = StateDB(tmp_path / "gridwatch.db")
    next_hour = shaver(peaks, db)
    assert next_hour.last.shed == ("ev",)  # as stored, of 18:00
    config = automation()
    plan = Automation(config, lambda _q: 1.0, lambda _d: [], STHLM, next_hour)
    assert {d["reason"] for d in plan.desired(at(2026, 1, 14, 19, 5))} == {"below"}
    assert next_hour.evaluate(at(2026, 1, 14, 19, 5), 2300.0).shed == ()
    db.close()
