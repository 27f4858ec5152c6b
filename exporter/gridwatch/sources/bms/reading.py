"""One pack's reading, built from an aiobmsble BMSSample; only what the BMS sent is set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridwatch.energy.battery import BatteryState

# Below this |current| a pack counts as idle: no runtime estimate, no charging flag flicker.
IDLE_AMPERES = 0.05


@dataclass(frozen=True, slots=True)
class Temperature:
    sensor: str  # "1", "2", … in the order the BMS reports them
    kind: str  # aiobmsble's sensor type: generic, mosfet, cell, …
    celsius: float


@dataclass(frozen=True, slots=True)
class PackReading:
    received_at: float
    bms_type: str  # aiobmsble module, e.g. jikong_bms
    voltage_v: float | None = None
    current_a: float | None = None  # + charging, − discharging
    power_w: float | None = None
    soc_pct: float | None = None
    soh_pct: float | None = None
    cycles: int | None = None
    remaining_ah: float | None = None
    design_ah: float | None = None
    cells_v: tuple[float, ...] = ()
    temperatures: tuple[Temperature, ...] = ()
    charge_mosfet: bool | None = None
    discharge_mosfet: bool | None = None
    balancing: bool | None = None
    balance_current_a: float | None = None
    heater: bool | None = None
    problem: bool | None = None
    problem_code: int | None = None
    info: tuple[tuple[str, str], ...] = ()  # model, firmware, … as the BMS reports them

    @property
    def charging(self) -> bool | None:
        if self.current_a is None:
            return None
        return self.current_a > IDLE_AMPERES

    @property
    def cell_delta_v(self) -> float | None:
        return round(max(self.cells_v) - min(self.cells_v), 6) if self.cells_v else None

    @property
    def lowest_cell(self) -> int | None:
        """1-based number of the lowest cell (the first one on a tie)."""
        return self.cells_v.index(min(self.cells_v)) + 1 if self.cells_v else None

    @property
    def highest_cell(self) -> int | None:
        return self.cells_v.index(max(self.cells_v)) + 1 if self.cells_v else None

    @property
    def runtime_s(self) -> float | None:
        """Time to empty at the present discharge current; None while charging or idle."""
        if self.remaining_ah is None or self.current_a is None or self.current_a > -IDLE_AMPERES:
            return None
        return self.remaining_ah / -self.current_a * 3600

    def battery_state(self) -> BatteryState:
        remaining_wh = capacity_wh = None
        if self.voltage_v is not None:
            if self.remaining_ah is not None:
                remaining_wh = self.remaining_ah * self.voltage_v
            if self.design_ah is not None:
                capacity_wh = self.design_ah * self.voltage_v
        return BatteryState(
            soc_ratio=None if self.soc_pct is None else self.soc_pct / 100,
            remaining_wh=remaining_wh,
            capacity_wh=capacity_wh,
            power_watts=self.power_w,
        )


def _num(sample: Mapping[str, Any], key: str) -> float | None:
    value = sample.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _flag(sample: Mapping[str, Any], key: str) -> bool | None:
    value = sample.get(key)
    return None if value is None else bool(value)


def from_sample(
    sample: Mapping[str, Any],
    received_at: float,
    bms_type: str,
    info: Mapping[str, str] | None = None,
) -> PackReading:
    """Map aiobmsble's field names and units onto the reading (all fields optional)."""
    voltage, current = _num(sample, "voltage"), _num(sample, "current")
    power = _num(sample, "power")
    if power is None and voltage is not None and current is not None:
        power = voltage * current
    cycles = _num(sample, "cycles")
    code = _num(sample, "problem_code")
    temperatures = tuple(
        Temperature(str(i), _sensor_kind(t), round(float(t), 3))
        for i, t in enumerate(sample.get("temp_values") or [], start=1)
    )
    return PackReading(
        received_at=received_at,
        bms_type=bms_type,
        voltage_v=voltage,
        current_a=current,
        power_w=None if power is None else round(power, 3),
        soc_pct=_num(sample, "battery_level"),
        soh_pct=_num(sample, "battery_health"),
        cycles=None if cycles is None else int(cycles),
        remaining_ah=_num(sample, "cycle_charge"),
        design_ah=_num(sample, "design_capacity"),
        cells_v=tuple(float(v) for v in sample.get("cell_voltages") or []),
        temperatures=temperatures,
        charge_mosfet=_flag(sample, "chrg_mosfet"),
        discharge_mosfet=_flag(sample, "dischrg_mosfet"),
        balancing=_flag(sample, "balancer"),
        balance_current_a=_num(sample, "balance_current"),
        heater=_flag(sample, "heater"),
        problem=_flag(sample, "problem"),
        problem_code=None if code is None else int(code),
        info=tuple(sorted((info or {}).items())),
    )


def _sensor_kind(value: Any) -> str:
    kind = getattr(value, "type", None)  # aiobmsble TempSensor; older releases sent floats
    name = getattr(kind, "name", None)
    return str(name).lower() if name else "generic"
