"""A simulated SMG-II (or relative): physical values from a scenario, registers through a map.

The scenario gives PV output over the day, the household load, the battery's state of charge
(integrated from the power flows) and grid outages at given times. The device encodes those
values into the registers of whichever register map it is built with, so one model serves the
vendor map, the 11K map and the SMX-II map alike. Tests control it directly: force the grid
down, override registers, answer with a Modbus exception.

``handle_rtu`` answers raw Modbus RTU frames like the device's serial port does; the Eybond dongle
simulator and the serial (pty) simulator use it, the pymodbus server reads ``registers``.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gridwatch.sources.inverter.regmap import RegisterMap
from gridwatch.sources.inverter.rtu import (
    EXCEPTION_BIT,
    MAX_READ_COUNT,
    READ_HOLDING,
    READ_INPUT,
    crc16,
    crc_ok,
)

# Settings as a freshly installed SMG-II reads them (by register name; maps without one skip it).
_SETTINGS: dict[str, float] = {
    "output_mode": 0,
    "output_priority": 2,  # SBU on the SMG (vendor map), SBU on the SRNE list too
    "input_voltage_range": 1,
    "output_voltage_setting": 230.0,
    "output_frequency_setting": 50.0,
    "battery_over_voltage_protection": 60.0,
    "max_charging_voltage": 57.6,
    "float_charging_voltage": 54.0,
    "mains_discharge_recovery_voltage": 52.0,
    "mains_low_voltage_protection": 46.0,
    "off_grid_low_voltage_protection": 42.0,
    "charging_priority": 1,
    "max_charging_current": 100.0,
    "max_mains_charging_current": 40.0,
    "charger_priority": 1,
    "buzzer_mode": 1,
    "lcd_backlight": 1,
    "lcd_return_home": 1,
    "energy_saving": 0,
    "overload_restart": 1,
    "over_temperature_restart": 1,
    "overload_to_bypass": 1,
    "battery_eq_mode": 0,
    "eq_charging_voltage": 58.4,
    "eq_time_minutes": 120,
    "eq_timeout_minutes": 120,
    "eq_interval_days": 30,
    "rated_power": 6200.0,
    "bus_voltage": 380.0,
    "fault_code": 0,
    "faults": 0,
    "warnings": 0,
}


@dataclass
class Scenario:
    """What happens around the inverter; times are seconds since ``start``."""

    start: float = field(default_factory=time.time)
    speed: float = 1.0  # simulated seconds per real second (the demo may run a day in minutes)
    utc_offset_hours: float = 2.0  # Kyiv winter time: the sun follows local time
    pv_peak_w: float = 4200.0
    sunrise_hour: float = 7.0
    sunset_hour: float = 17.0
    base_load_w: float = 380.0
    evening_load_w: float = 900.0  # extra 18:00–22:00
    battery_capacity_wh: float = 5120.0  # 48 V × 100 Ah
    initial_soc: float = 0.66
    min_soc: float = 0.2  # below this, with grid present, the load moves to mains (SBU)
    mains_charge_w: float = 1500.0
    outages: list[tuple[float, float]] = field(default_factory=list)  # grid down [from, to)

    def elapsed(self, now: float) -> float:
        return (now - self.start) * self.speed

    def local_hour(self, elapsed: float) -> float:
        return ((self.start + elapsed) / 3600 + self.utc_offset_hours) % 24

    def pv_w(self, elapsed: float) -> float:
        hour = self.local_hour(elapsed)
        day = self.sunset_hour - self.sunrise_hour
        if not 0 < hour - self.sunrise_hour < day:
            return 0.0
        height = math.sin(math.pi * (hour - self.sunrise_hour) / day)
        return float(self.pv_peak_w * height**1.5)

    def load_w(self, elapsed: float) -> float:
        hour = self.local_hour(elapsed)
        evening = self.evening_load_w if 18 <= hour < 22 else 0.0
        return self.base_load_w + evening + 60 * math.sin(elapsed / 97)

    def grid_up(self, elapsed: float) -> bool:
        return not any(a <= elapsed < b for a, b in self.outages)


class ScenarioUnit:
    """What every simulated inverter shares, whatever it speaks: the scenario's time, the grid
    as it stands (or as a test forces it) and the battery's charge carried from read to read."""

    def __init__(self, scenario: Scenario | None, clock: Callable[[], float]) -> None:
        self.scenario = scenario or Scenario(start=clock())
        self.clock = clock
        self.grid_override: bool | None = None  # force the grid up/down, whatever the scenario
        self._soc = self.scenario.initial_soc
        self._last: float | None = None

    @property
    def grid_up(self) -> bool:
        if self.grid_override is not None:
            return self.grid_override
        return self.scenario.grid_up(self.scenario.elapsed(self.clock()))

    def _step(self) -> tuple[float, float]:
        """(scenario seconds now, hours since the previous read): the step the battery moves."""
        elapsed = self.scenario.elapsed(self.clock())
        dt_h = 0.0 if self._last is None else max(0.0, elapsed - self._last) / 3600
        self._last = elapsed
        return elapsed, dt_h

    def _charge(self, battery_w: float, dt_h: float) -> None:
        capacity = self.scenario.battery_capacity_wh
        self._soc = min(1.0, max(0.0, self._soc + battery_w * dt_h / capacity))


class InverterDevice(ScenarioUnit):
    def __init__(
        self,
        regmap: RegisterMap,
        scenario: Scenario | None = None,
        *,
        unit: int = 1,
        serial: str = "92B32408100363",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(scenario, clock)
        self.regmap = regmap
        self.unit = unit
        self.serial = serial
        self.overrides: dict[str, float | str] = {}  # fixed values by register name
        self.exception: int | None = None  # answer every read with this Modbus exception
        self.zeros = False  # every register reads 0 (a map that does not fit)
        self.unsupported: set[int] = set()  # addresses that answer "illegal data address"
        self.reads = 0  # read requests answered (the benchmark counts them)
        self._pv_kwh = 0.0
        self._load_kwh = 0.0
        self._mains_load_kwh = 0.0
        self._modes = {name: raw for raw, name in self._mode_enum().items()}

    def _mode_enum(self) -> dict[int, str]:
        spec = self.regmap.by_name("operating_mode")
        return dict(spec.values) if spec is not None else {}

    def _mode(self, *names: str) -> int:
        return next((self._modes[n] for n in names if n in self._modes), 0)

    def values(self) -> dict[str, float | str]:
        """Physical values by register name, advancing the battery to now."""
        sc = self.scenario
        elapsed, dt_h = self._step()
        grid = self.grid_up
        pv, load = sc.pv_w(elapsed), sc.load_w(elapsed)
        on_mains = grid and self._soc <= sc.min_soc
        if on_mains:  # SBU: battery too low, mains carries the load and charges the battery
            battery_w = pv + sc.mains_charge_w
            mains_w = load + sc.mains_charge_w
        else:
            battery_w = pv - load
            mains_w = 0.0
        if self._soc >= 1.0 and battery_w > 0:
            battery_w = 0.0  # full: PV is curtailed
        if self._soc <= 0.0 and battery_w < 0:
            battery_w, load = 0.0, 0.0  # empty and no mains: the output shuts down
        self._charge(battery_w, dt_h)
        self._pv_kwh += pv * dt_h / 1000
        self._load_kwh += load * dt_h / 1000
        self._mains_load_kwh += (load if on_mains else 0.0) * dt_h / 1000
        battery_v = 48.0 + 6.0 * self._soc + battery_w / 2000
        mains_v = 230.0 + 4 * math.sin(elapsed / 600) if grid else 0.0
        apparent = load / 0.85 if load else 0.0
        pv_v = 310.0 if pv > 0 else 22.6
        values: dict[str, float | str] = {
            **_SETTINGS,
            "serial_number": self.serial,
            "operating_mode": self._mode("mains", "line")
            if on_mains
            else self._mode("off_grid", "inverter"),
            "mains_voltage": mains_v,
            "mains_frequency": 50.0 + 0.02 * math.sin(elapsed / 300) if grid else 0.0,
            "mains_power": mains_w,
            "mains_current": mains_w / mains_v if mains_v else 0.0,
            "inverter_voltage": 230.0,
            "inverter_current": 0.0 if on_mains else apparent / 230,
            "inverter_frequency": 50.0,
            "inverter_power": 0.0 if on_mains else load,
            "mains_charge_power": sc.mains_charge_w if on_mains else 0.0,
            "mains_charge_current": sc.mains_charge_w / battery_v if on_mains else 0.0,
            "output_voltage": 230.0 if load else 0.0,
            "output_current": apparent / 230,
            "output_frequency": 50.0 if load else 0.0,
            "output_power": load,
            "output_apparent_power": apparent,
            "output_load": 100 * load / 6200,
            "battery_voltage": battery_v,
            "battery_current": battery_w / battery_v,
            "battery_power": battery_w,
            "battery_soc": round(100 * self._soc),
            "battery_temperature": 21.0,
            "pv1_voltage": pv_v,
            "pv1_current": pv * 0.6 / pv_v if "pv2_power" in self._names else pv / pv_v,
            "pv1_power": pv * 0.6 if "pv2_power" in self._names else pv,
            "pv2_voltage": pv_v,
            "pv2_current": pv * 0.4 / pv_v,
            "pv2_power": pv * 0.4,
            "pv_total_power": pv,
            "pv_charge_power": max(0.0, min(pv, battery_w)),
            "pv_charge_current": max(0.0, min(pv, battery_w)) / battery_v,
            "pv_temperature": 28.0,
            "dc_dc_temperature": 30 + load / 250,
            "inverter_temperature": 32 + load / 200,
            "dc_temperature": 30 + load / 250,
            "ac_temperature": 32 + load / 200,
            "transformer_temperature": 35 + load / 150,
            "charge_stage": 1 if battery_w > 0 else 0,
            "pv_energy_total": self._pv_kwh,
            "load_energy_total": self._load_kwh,
            "mains_load_energy_total": self._mains_load_kwh,
        }
        values.update(self.overrides)
        return values

    @property
    def _names(self) -> set[str]:
        return {r.name for r in self.regmap.registers}

    def registers(self) -> dict[int, int]:
        """Every mapped register's raw word; unmapped addresses read 0 (reserved)."""
        if self.zeros:
            return {}
        values = self.values()
        words: dict[int, int] = {}
        for reg in self.regmap.registers:
            value = values.get(reg.name, 0.0)
            words.update(self.regmap.encode(reg, value))
        return words

    def read(self, start: int, count: int) -> list[int] | int:
        """Registers for a read request, or a Modbus exception code."""
        if self.exception is not None:
            return self.exception
        if not 1 <= count <= MAX_READ_COUNT:
            return 3
        if start + count > 65536 or self.unsupported.intersection(range(start, start + count)):
            return 2
        self.reads += 1
        words = self.registers()
        return [words.get(start + i, 0) for i in range(count)]

    def handle_rtu(self, frame: bytes) -> bytes | None:
        """The device's answer to one RTU request frame; None where a real device stays silent."""
        if len(frame) < 4 or not crc_ok(frame):
            return None  # a garbled request gets no answer on RS232
        unit, function = frame[0], frame[1]
        if unit not in {self.unit, 0xFF}:  # suletom's dongle frames use 0xFF for "whoever"
            return None
        if function not in {READ_HOLDING, READ_INPUT} or len(frame) != 8:
            return _with_crc(bytes((self.unit, function | EXCEPTION_BIT, 1)))
        start, count = struct.unpack(">HH", frame[2:6])
        result = self.read(start, count)
        if isinstance(result, int):
            return _with_crc(bytes((self.unit, function | EXCEPTION_BIT, result)))
        data = struct.pack(f">{len(result)}H", *result)
        return _with_crc(bytes((self.unit, function, len(data))) + data)


def _with_crc(body: bytes) -> bytes:
    return body + crc16(body)
