"""A deterministic synthetic 3-phase household, rendered as HomeWizard P1 v2 measurements.

The model advances in fixed 15-second ticks aligned to the Unix epoch. Appliance switching and PV
output change only on ticks and draw from one seeded ``random.Random`` in tick order, so the same
seed and start time give the same history however finely ``step`` is called. Per-reading noise
(voltage ripple, frequency, small load jitter) comes from an RNG keyed by the reading's second, so
it never disturbs the switching sequence and is not integrated into the energy registers.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["TICK_S", "Household"]

TICK_S = 15.0
_AVG_WINDOW_TICKS = int(15 * 60 / TICK_S)
_PHASE_VOLTAGE = 235.0  # open-circuit voltage at the house connection
_LINE_DROP_OHM = 0.15  # U = 235 − 0.15·I per phase
_BASE_W = (140.0, 90.0, 170.0)  # router, fridge, standby etc. per phase
_EV_PHASE_W = 3680.0  # 16 A × 230 V per phase = 11 kW charger
_WARM_UP_S = 2 * 3600.0  # start mid-life: appliances already running, a filled 15-min window

# (first hour, last hour exclusive, expected starts per hour)
_Rates = tuple[tuple[int, int, float], ...]


@dataclass(frozen=True)
class _Appliance:
    name: str
    watts: float
    phases: tuple[int, ...]  # candidate phases; all three means a 3-phase load
    minutes: tuple[int, int]  # run length range
    rates: _Rates
    weather_scaled: bool = False  # start rate multiplied by the day's heating demand
    three_phase: bool = False
    profile: Callable[[float], float] = lambda _minutes: 1.0  # fraction of watts while running


def _oven(m: float) -> float:
    # Full power while preheating, then the thermostat holds about 2/3 duty.
    return 1.0 if m < 12 or int(m) % 6 < 4 else 0.0


def _washer(m: float) -> float:
    # Heats the water first, then tumbles, then spins.
    return 1.0 if m < 15 else (0.12 if m < 80 else 0.25)


def _dishwasher(m: float) -> float:
    return 1.0 if 5 <= m < 25 or 60 <= m < 75 else 0.07


_APPLIANCES = (
    _Appliance(
        "kettle",
        2000.0,
        (0, 1),
        (2, 4),
        ((6, 9, 0.7), (11, 14, 0.3), (15, 17, 0.3), (18, 22, 0.4), (22, 24, 0.05)),
    ),
    _Appliance("oven", 2400.0, (1,), (30, 75), ((11, 13, 0.1), (16, 19, 0.5)), profile=_oven),
    _Appliance("washing_machine", 2000.0, (2,), (95, 120), ((8, 20, 0.08),), profile=_washer),
    _Appliance(
        "dishwasher", 1800.0, (0,), (100, 140), ((12, 14, 0.05), (19, 23, 0.3)), profile=_dishwasher
    ),
    _Appliance(
        "heat_pump",
        1800.0,
        (0, 1, 2),
        (20, 45),
        ((0, 6, 1.6), (6, 9, 1.4), (9, 17, 0.6), (17, 24, 1.2)),
        weather_scaled=True,
        three_phase=True,
    ),
    # Plugged into whichever socket is at hand: a new phase every time it is switched on.
    _Appliance(
        "portable_heater",
        1500.0,
        (0, 1, 2),
        (30, 120),
        ((6, 9, 0.15), (17, 23, 0.25)),
        weather_scaled=True,
    ),
)


@dataclass(frozen=True)
class _DayPlan:
    sunny: bool
    heating: float  # 0 (mild) … 1 (cold): scales heat pump and heater use
    ev_start_h: float | None  # local hour the EV starts charging, None = no charging today
    ev_hours: float


@dataclass
class _Run:
    appliance: _Appliance
    started: float
    ends: float
    phase: int


class Household:
    """Synthetic household load; ``step`` advances it, ``measurement_v2`` renders a P1 reading."""

    def __init__(
        self,
        start: dt.datetime,
        *,
        seed: int = 1,
        timezone: str = "Europe/Stockholm",
        sunny: bool | None = None,
        ev_probability: float = 0.35,
        pv_peak_w: float = 6000.0,
    ) -> None:
        self._tz = ZoneInfo(timezone)
        self._seed = seed
        self._rng = random.Random(seed)
        self._sunny = sunny  # None = decided per day from the seed
        self._ev_probability = ev_probability
        self._pv_peak_w = pv_peak_w
        self._plans: dict[dt.date, _DayPlan] = {}
        self._runs: dict[str, _Run] = {}
        self._pv_w = 0.0
        self._phase_w = [0.0, 0.0, 0.0]
        # Registers start at plausible values for a house a few years into its meter.
        self._import_kwh = {
            1: 9000 + self._rng.uniform(0, 3000),
            2: 7000 + self._rng.uniform(0, 3000),
        }
        self._export_kwh = {1: 200 + self._rng.uniform(0, 300), 2: 1500 + self._rng.uniform(0, 900)}
        self._sags = [self._rng.randint(0, 5) for _ in range(3)]
        self._swells = [self._rng.randint(0, 2) for _ in range(3)]
        self._window: deque[float] = deque(maxlen=_AVG_WINDOW_TICKS)
        self._t = self._to_ts(start) - _WARM_UP_S
        self._peak_month = self._month(self._t)
        self._peak_w, self._peak_ts = self._earlier_peak(self._t)
        self._tick(self._t)
        self.step(start)

    # -- public ---------------------------------------------------------------------------------

    @property
    def phase_power_w(self) -> tuple[float, float, float]:
        """Noise-free net power per phase at the current tick (negative = export)."""
        return (self._phase_w[0], self._phase_w[1], self._phase_w[2])

    def step(self, now: dt.datetime) -> None:
        """Advance the model to ``now``; moving backwards is ignored."""
        target = self._to_ts(now)
        while True:
            next_tick = (math.floor(self._t / TICK_S) + 1) * TICK_S
            if next_tick > target:
                break
            self._integrate(next_tick)
            self._tick(next_tick)
        if target > self._t:
            self._integrate(target)

    def measurement_v2(self, now: dt.datetime) -> dict[str, Any]:
        """Step to ``now`` and return a v2 ``/api/measurement`` payload."""
        self.step(now)
        ts = self._to_ts(now)
        noise = random.Random(f"{self._seed}:noise:{int(ts)}")
        powers = [round(p + noise.uniform(-15.0, 15.0)) for p in self._phase_w]
        volts: list[float] = []
        amps: list[float] = []
        for i, p in enumerate(powers):
            ripple = 0.8 * math.sin(2 * math.pi * (ts / 5400.0 + i / 3))
            u = _PHASE_VOLTAGE + ripple - _LINE_DROP_OHM * p / _PHASE_VOLTAGE
            u = round(u + noise.uniform(-0.3, 0.3), 1)
            volts.append(u)
            amps.append(round(p / u, 3))  # like the firmware: I = P/U, signed with P
        frequency = 50.0 + 0.02 * math.sin(2 * math.pi * ts / 600.0) + noise.uniform(-0.01, 0.01)
        imp = {t: round(v, 3) for t, v in self._import_kwh.items()}
        exp = {t: round(v, 3) for t, v in self._export_kwh.items()}
        return {
            "protocol_version": 50,
            "meter_model": "ISKRA  2M550T-101",
            "unique_id": b"E0044007052870318".hex().upper(),
            "timestamp": self._iso(ts),
            "tariff": self._tariff(ts),
            "energy_import_kwh": round(imp[1] + imp[2], 3),
            "energy_import_t1_kwh": imp[1],
            "energy_import_t2_kwh": imp[2],
            "energy_export_kwh": round(exp[1] + exp[2], 3),
            "energy_export_t1_kwh": exp[1],
            "energy_export_t2_kwh": exp[2],
            "power_w": sum(powers),
            "power_l1_w": powers[0],
            "power_l2_w": powers[1],
            "power_l3_w": powers[2],
            "voltage_l1_v": volts[0],
            "voltage_l2_v": volts[1],
            "voltage_l3_v": volts[2],
            "current_a": round(sum(abs(a) for a in amps), 3),
            "current_l1_a": amps[0],
            "current_l2_a": amps[1],
            "current_l3_a": amps[2],
            "frequency_hz": round(frequency, 3),
            "voltage_sag_l1_count": self._sags[0],
            "voltage_sag_l2_count": self._sags[1],
            "voltage_sag_l3_count": self._sags[2],
            "voltage_swell_l1_count": self._swells[0],
            "voltage_swell_l2_count": self._swells[1],
            "voltage_swell_l3_count": self._swells[2],
            "any_power_fail_count": 4,
            "long_power_fail_count": 1,
            "average_power_15m_w": round(self._average_w()),
            "monthly_power_peak_w": round(self._peak_w),
            "monthly_power_peak_timestamp": self._iso(self._peak_ts),
            "external": [],
        }

    # -- time helpers ---------------------------------------------------------------------------

    def _to_ts(self, when: dt.datetime) -> float:
        if when.tzinfo is None:  # naive = local wall time, like the meter's own clock
            when = when.replace(tzinfo=self._tz)
        return when.timestamp()

    def _local(self, ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, self._tz)

    def _iso(self, ts: float) -> str:
        return self._local(ts).strftime("%Y-%m-%dT%H:%M:%S")

    def _month(self, ts: float) -> tuple[int, int]:
        local = self._local(ts)
        return (local.year, local.month)

    def _earlier_peak(self, ts: float) -> tuple[float, float]:
        """A plausible peak from earlier this month, so the register does not start at zero."""
        local = self._local(ts)
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
        if ts - month_start < 86400:
            return 0.0, ts
        return self._rng.uniform(2500.0, 5500.0), self._rng.uniform(month_start, ts)

    def _tariff(self, ts: float) -> int:
        hour = self._local(ts).hour
        return 1 if hour >= 22 or hour < 7 else 2  # t1 = night (22–07), t2 = day

    # -- simulation -----------------------------------------------------------------------------

    def _plan(self, day: dt.date) -> _DayPlan:
        plan = self._plans.get(day)
        if plan is None:
            # Keyed by date, not drawn from the tick RNG, so a day looks the same however reached.
            rng = random.Random(f"{self._seed}:day:{day.isoformat()}")
            sunny = rng.random() < 0.5
            winter = 0.5 + 0.5 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
            heating = min(1.0, 0.1 + 0.9 * winter * rng.uniform(0.6, 1.2))
            charges = rng.random() < self._ev_probability
            ev_start = rng.uniform(17.0, 22.0)
            ev_hours = rng.uniform(1.0, 4.0)
            plan = _DayPlan(
                sunny=sunny if self._sunny is None else self._sunny,
                heating=heating,
                ev_start_h=ev_start if charges else None,
                ev_hours=ev_hours,
            )
            if len(self._plans) > 8:
                self._plans.clear()
            self._plans[day] = plan
        return plan

    def _ev_charging(self, local: dt.datetime) -> bool:
        hour = local.hour + local.minute / 60 + local.second / 3600
        for back in (0, 1):  # a charge started late yesterday may run past midnight
            plan = self._plan(local.date() - dt.timedelta(days=back))
            if plan.ev_start_h is None:
                continue
            start = plan.ev_start_h - 24 * back
            if start <= hour < start + plan.ev_hours:
                return True
        return False

    def _pv_output(self, local: dt.datetime, plan: _DayPlan) -> float:
        # Day length and yield follow the season at ~59° N (6 h in December, 18 h in June); the
        # winter yield is kept generous so sunny demo days export at midday all year round.
        summer = math.cos(2 * math.pi * (local.timetuple().tm_yday - 172) / 365)
        day_hours = 12.0 + 6.2 * summer
        noon = 12.0 + (1.0 if local.dst() else 0.0)
        since_sunrise = local.hour + local.minute / 60 - (noon - day_hours / 2)
        clouds = self._rng.uniform(0.93, 1.0) if plan.sunny else self._rng.uniform(0.08, 0.4)
        if not 0.0 < since_sunrise < day_hours:
            return 0.0
        shape = math.pow(math.sin(math.pi * since_sunrise / day_hours), 1.5)
        return self._pv_peak_w * (0.675 + 0.325 * summer) * shape * clouds

    def _tick(self, ts: float) -> None:
        """Apply the switching decisions due at tick ``ts``."""
        local = self._local(ts)
        plan = self._plan(local.date())
        for run in list(self._runs.values()):
            if ts >= run.ends:
                del self._runs[run.appliance.name]
        for app in _APPLIANCES:
            roll = self._rng.random()  # always drawn, so the sequence does not depend on state
            if app.name in self._runs:
                continue
            rate = next((r for a, b, r in app.rates if a <= local.hour < b), 0.0)
            if app.weather_scaled:
                rate *= plan.heating
            if roll < rate * TICK_S / 3600.0:
                minutes = self._rng.uniform(*app.minutes)
                phase = self._rng.choice(app.phases)
                self._runs[app.name] = _Run(app, ts, ts + minutes * 60.0, phase)
        self._pv_w = self._pv_output(local, plan)
        phase_w = list(_BASE_W)
        phase_w[0] += 90.0 if int(ts // 60) % 45 < 15 else 0.0  # fridge compressor cycle
        for run in self._runs.values():
            watts = run.appliance.watts * run.appliance.profile((ts - run.started) / 60.0)
            if run.appliance.three_phase:
                for i in range(3):
                    phase_w[i] += watts / 3
            else:
                phase_w[run.phase] += watts
        if self._ev_charging(local):
            for i in range(3):
                phase_w[i] += _EV_PHASE_W
        self._phase_w = [p - self._pv_w / 3 for p in phase_w]
        for i in range(3):
            if self._rng.random() < 1 / 20000:
                self._sags[i] += 1
            if self._rng.random() < 1 / 40000:
                self._swells[i] += 1
        self._update_peak(ts)

    def _update_peak(self, ts: float) -> None:
        # Demand counts imports only, as the meter's 1-0:1.4.0 register does.
        self._window.append(max(0.0, sum(self._phase_w)))
        month = self._month(ts)
        average = self._average_w()
        if month != self._peak_month:
            self._peak_month, self._peak_w, self._peak_ts = month, average, ts
        elif average > self._peak_w:
            self._peak_w, self._peak_ts = average, ts

    def _average_w(self) -> float:
        return math.fsum(self._window) / len(self._window) if self._window else 0.0

    def _integrate(self, until: float) -> None:
        """Add energy for [self._t, until); power is constant between ticks."""
        kwh = sum(self._phase_w) * (until - self._t) / 3.6e6
        tariff = self._tariff(self._t)
        if kwh >= 0:
            self._import_kwh[tariff] += kwh
        else:
            self._export_kwh[tariff] -= kwh
        self._t = until
