"""What every battery-bearing reading can say about its battery, whatever the source.

BMS packs and inverters both report a battery; outage runtime estimates and alerts use this one
shape instead of knowing each source's reading type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class BatteryState:
    soc_ratio: float | None = None  # 0..1
    remaining_wh: float | None = None  # energy left in the battery now
    capacity_wh: float | None = None  # full (design or configured) capacity
    power_watts: float | None = None  # + charging, − discharging
    load_watts: float | None = None  # the household load this device feeds (inverter AC output)


@runtime_checkable
class HasBatteryState(Protocol):
    """A reading that carries a battery; the store key says which device it came from."""

    def battery_state(self) -> BatteryState | None: ...
