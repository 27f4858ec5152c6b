"""How long the batteries last at the present load, and what the next outage will need.

Works over every fresh reading that carries a battery (``HasBatteryState``), whatever its source:
BMS packs are summed when there are any (they measure the cells directly); otherwise the
inverter's own battery figures are used. The present load is the inverters' AC output when they
report it, else the packs' discharge power.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridwatch.core.source import SourceKey
from gridwatch.energy.battery import BatteryState, HasBatteryState

INVERTER_KIND = "inverter"
JOULES_PER_WH = 3600.0


@dataclass(frozen=True, slots=True)
class BatterySupply:
    energy_wh: float | None  # usable energy now (above the reserve)
    load_watts: float | None  # present load the battery feeds or would feed; None = unknown
    devices: int  # how many readings contributed the energy

    def runtime_seconds(self) -> float | None:
        """Time to empty at the present load; None when unknown or nothing is drawn."""
        if self.energy_wh is None or self.load_watts is None or self.load_watts <= 0:
            return None
        return self.energy_wh / self.load_watts * 3600.0


def _energy_wh(state: BatteryState, reserve_ratio: float) -> float | None:
    remaining = state.remaining_wh
    capacity = state.capacity_wh
    if remaining is None and state.soc_ratio is not None and capacity is not None:
        remaining = state.soc_ratio * capacity
    if remaining is None:
        return None
    if capacity is None and state.soc_ratio:
        capacity = remaining / state.soc_ratio
    reserve = reserve_ratio * capacity if capacity is not None else 0.0
    return max(remaining - reserve, 0.0)


def _is_inverter(key: SourceKey, state: BatteryState) -> bool:
    # BMS packs do not know the household load; a reading that does is an inverter.
    return key.source == INVERTER_KIND or state.load_watts is not None


def battery_supply(
    readings: Iterable[tuple[SourceKey, object]], reserve_ratio: float = 0.0
) -> BatterySupply | None:
    """Energy and load from fresh readings; None when no reading carries a battery."""
    packs: list[BatteryState] = []
    inverters: list[BatteryState] = []
    for key, reading in readings:
        if not isinstance(reading, HasBatteryState):
            continue
        state = reading.battery_state()
        if state is None:
            continue
        (inverters if _is_inverter(key, state) else packs).append(state)
    if not packs and not inverters:
        return None
    chosen = packs or inverters
    energies = [e for e in (_energy_wh(s, reserve_ratio) for s in chosen) if e is not None]
    energy = sum(energies) if energies else None
    loads = [s.load_watts for s in inverters if s.load_watts is not None]
    load: float | None = sum(loads) if loads else None
    if load is None:
        powers = [s.power_watts for s in chosen if s.power_watts is not None]
        if powers and sum(powers) < 0:  # discharging: that is the load it feeds now
            load = -sum(powers)
    return BatterySupply(energy, load, len(energies))


def energy_needed_joules(
    outage: tuple[float, float] | None, now: float, load_watts: float | None
) -> float | None:
    """Energy to ride through the rest of the current (or the whole next) outage at a load."""
    if outage is None or load_watts is None:
        return None
    start, end = outage
    return max(end - max(start, now), 0.0) * load_watts
