"""From an aiobmsble sample to a pack reading: units, absent fields, runtime, battery state."""

from __future__ import annotations

import pytest
from aiobmsble import TempSensor

from gridwatch.energy.battery import HasBatteryState
from gridwatch.sources.bms.reading import from_sample

DISCHARGING = {
    "voltage": 26.509,
    "current": -7.063,
    "battery_level": 68,
    "battery_health": 100,
    "cycle_charge": 142.464,
    "design_capacity": 210,
    "cycles": 21,
    "cell_voltages": [3.315, 3.315, 3.315, 3.312, 3.313, 3.312, 3.313, 3.313],
    "temp_values": [TempSensor(31.0, TempSensor.T.MOSFET), TempSensor(28.4)],
    "chrg_mosfet": True,
    "dischrg_mosfet": True,
    "balancer": False,
    "problem_code": 0,
    "problem": False,
}


def test_discharging_pack() -> None:
    r = from_sample(DISCHARGING, 100.0, "jikong_bms", {"sw_version": "11.48"})
    assert r.power_w == pytest.approx(26.509 * -7.063, abs=1e-3)  # derived when not sent
    assert r.charging is False
    assert r.cell_delta_v == pytest.approx(0.003)
    assert (r.lowest_cell, r.highest_cell) == (4, 1)  # first cell on a tie
    assert [(t.sensor, t.kind, t.celsius) for t in r.temperatures] == [
        ("1", "mosfet", 31.0),
        ("2", "generic", 28.4),
    ]
    assert r.runtime_s == pytest.approx(142.464 / 7.063 * 3600)
    assert r.info == (("sw_version", "11.48"),)


def test_battery_state_for_outage_estimates() -> None:
    r = from_sample(DISCHARGING, 100.0, "jikong_bms")
    assert isinstance(r, HasBatteryState)
    state = r.battery_state()
    assert state.soc_ratio == pytest.approx(0.68)
    assert state.remaining_wh == pytest.approx(142.464 * 26.509)
    assert state.capacity_wh == pytest.approx(210 * 26.509)
    assert state.power_watts == pytest.approx(-187.233, abs=1e-3)


@pytest.mark.parametrize("current", [2.329, 0.0, -0.01])
def test_no_runtime_while_charging_or_idle(current: float) -> None:
    r = from_sample({**DISCHARGING, "current": current, "power": None}, 0.0, "jikong_bms")
    assert r.runtime_s is None
    assert r.charging is (current > 0.05)


def test_absent_fields_stay_absent() -> None:
    r = from_sample({"voltage": 13.2}, 0.0, "jbd_bms")
    assert r.current_a is None and r.power_w is None and r.soc_pct is None
    assert r.cells_v == () and r.cell_delta_v is None and r.lowest_cell is None
    assert r.runtime_s is None and r.problem_code is None and r.charging is None
    state = r.battery_state()
    assert state.soc_ratio is None and state.remaining_wh is None and state.capacity_wh is None


def test_plain_float_temperatures_of_older_aiobmsble() -> None:
    r = from_sample({"temp_values": [21.5]}, 0.0, "jikong_bms")
    assert [(t.kind, t.celsius) for t in r.temperatures] == [("generic", 21.5)]
