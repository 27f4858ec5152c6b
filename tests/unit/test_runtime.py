"""Battery runtime and the energy the next outage needs, from any reading that has a battery."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gridwatch.core.source import SourceKey
from gridwatch.energy.battery import BatteryState
from gridwatch.energy.runtime import BatterySupply, battery_supply, energy_needed_joules

pytestmark = pytest.mark.clock


@dataclass(frozen=True, slots=True)
class Carrier:
    """A test reading implementing HasBatteryState, as BMS and inverter readings do."""

    state: BatteryState | None
    received_at: float = 0.0

    def battery_state(self) -> BatteryState | None:
        return self.state


@dataclass(frozen=True, slots=True)
class NoBattery:
    received_at: float = 0.0


PACK = SourceKey("bms", "pack1")
PACK2 = SourceKey("bms", "pack2")
INV = SourceKey("inverter", "easun")


def test_packs_are_summed_and_the_inverter_gives_the_load() -> None:
    supply = battery_supply(
        [
            (PACK, Carrier(BatteryState(remaining_wh=2000, power_watts=-300))),
            (PACK2, Carrier(BatteryState(soc_ratio=0.5, capacity_wh=5000))),
            (INV, Carrier(BatteryState(remaining_wh=9999, load_watts=900))),
            (SourceKey("homewizard", "home"), NoBattery()),
        ]
    )
    assert supply == BatterySupply(energy_wh=4500, load_watts=900, devices=2)
    assert supply.runtime_seconds() == pytest.approx(4500 / 900 * 3600)


def test_inverter_alone_and_discharge_power_as_load() -> None:
    inverter_only = battery_supply(
        [(INV, Carrier(BatteryState(remaining_wh=3000, power_watts=-600)))]
    )
    assert inverter_only == BatterySupply(energy_wh=3000, load_watts=600, devices=1)
    packs_only = battery_supply(
        [
            (PACK, Carrier(BatteryState(remaining_wh=1000, power_watts=-250))),
            (PACK2, Carrier(BatteryState(remaining_wh=1000, power_watts=-250))),
        ]
    )
    assert packs_only is not None
    assert packs_only.load_watts == 500
    assert packs_only.runtime_seconds() == pytest.approx(4 * 3600)


def test_charging_packs_without_inverter_leave_the_load_unknown() -> None:
    supply = battery_supply([(PACK, Carrier(BatteryState(remaining_wh=1000, power_watts=400)))])
    assert supply == BatterySupply(energy_wh=1000, load_watts=None, devices=1)
    assert supply.runtime_seconds() is None


def test_reserve_is_kept_back() -> None:
    state = BatteryState(soc_ratio=0.6, remaining_wh=3000)  # capacity 5000 Wh from soc
    supply = battery_supply([(PACK, Carrier(state))], reserve_ratio=0.2)
    assert supply is not None
    assert supply.energy_wh == pytest.approx(2000)
    low = battery_supply([(PACK, Carrier(BatteryState(soc_ratio=0.1, capacity_wh=5000)))], 0.2)
    assert low is not None and low.energy_wh == 0


def test_no_battery_readings() -> None:
    assert battery_supply([(SourceKey("homewizard", "home"), NoBattery())]) is None
    assert battery_supply([(PACK, Carrier(None))]) is None
    unknown = battery_supply([(PACK, Carrier(BatteryState(soc_ratio=0.5)))])
    assert unknown == BatterySupply(energy_wh=None, load_watts=None, devices=0)


def test_energy_needed_counts_the_rest_of_an_outage_in_progress() -> None:
    outage = (1000.0, 4600.0)  # one hour
    assert energy_needed_joules(outage, 0.0, 500) == 3600 * 500
    assert energy_needed_joules(outage, 2800.0, 500) == 1800 * 500
    assert energy_needed_joules(None, 0.0, 500) is None
    assert energy_needed_joules(outage, 0.0, None) is None
