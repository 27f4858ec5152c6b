"""automation_bill: a month's bill of the simulated household three ways — no automation, price
schedules, schedules + peak shaving — with the energy and the counted capacity-fee peaks of each.

The household is `sim/homewizard/household.py` (January, Stockholm: heat pump, kettle, oven,
PV, an 11 kW EV charger on evenings it comes home) and the prices are the price simulator's
day curves for SE3 (`sim/prices/simulator.py` PriceCurve), priced with the Ellevio-like tariff
of docs/prices.md. Two loads are switchable:

* the EV charger: without automation it charges when the car arrives (the household model's
  own evenings); with a schedule, the same energy in the cheapest quarters of 22:00–07:00 in
  runs of at least 1 h;
* a 3 kW water heater, 3 h a day: without automation its thermostat heats 05:00–06:00 and
  17:00–19:00; with a schedule, the 12 cheapest quarters of 22:00–07:00, finished by 06:00.

Peak shaving is the exporter's own `PeakShaver` over the real `CapacityPeaks`, evaluated once a
minute (the receiver polls every 30 s), shedding the EV first. A shed load's energy is not
lost: it runs again as soon as shaving lets it (so every scenario delivers the same energy —
the bench checks that). Planning is `energy/schedule.py`'s `plan`, the same code the exporter
runs. Only the money and the peaks are measured here, no time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.report import Result, Target
from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.energy.config import TariffConfig
from gridwatch.energy.peak_shaving import PeakShaver
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.energy.schedule import QUARTER, plan
from gridwatch.energy.tariff import Tariff
from gridwatch.sim.homewizard.household import TICK_S, Household
from gridwatch.sim.prices.simulator import PriceCurve

TZ = ZoneInfo("Europe/Stockholm")
MONTH = (2026, 1)
SEK_PER_EUR = 11.05
EV_W = 3 * 3680.0
HEATER_W = 3000.0
SHAVE_EVERY_S = 60.0
TARIFF = TariffConfig.model_validate(
    {
        "prices_include_vat": True,
        "vat": 0.25,
        "supplier": {"markup_per_kwh": 0.05, "variable_fees_per_kwh": 0.025, "monthly_fee": 49},
        "grid": {"transfer_fee_per_kwh": 0.0875, "monthly_fee": 365},
        "energy_tax_per_kwh": 0.45,
        "export": {"grid_benefit_per_kwh": 0.05},
        "capacity_fee": {
            "price_per_kw": 81.25,
            "peaks": 3,
            "distinct_days": True,
            "night_weight": 0.5,
            "night_hours": {"start": 22, "end": 6},
        },
    }
)
AUTOMATION = AutomationConfig.model_validate(
    {
        "loads": [
            {
                "name": "ev",
                "plug": "ev",
                "watts": EV_W,
                "cheapest": {"quarters": 4, "window": {"start": "22:00", "end": "07:00"}},
                "min_run": "1h",
            },
            {
                "name": "water_heater",
                "plug": "boiler",
                "watts": HEATER_W,
                "cheapest": {"quarters": 12, "window": {"start": "22:00", "end": "07:00"}},
                "min_run": "30m",
                "latest_finish": "06:00",
            },
        ],
        "peak_shaving": {"meter": "home", "loads": ["ev", "water_heater"], "margin_watts": 200},
    }
)


@dataclass
class Month:
    """The household without its switchable loads, tick by tick, and what they need."""

    ticks: list[float]
    base_w: list[float]  # net power without EV and water heater (negative = export)
    ev_baseline: list[bool]  # the EV charging when it comes home
    ev_seconds_by_night: dict[dt.date, float]  # night starting that evening → seconds to charge
    spot: dict[float, float]  # quarter → SEK/kWh


@dataclass
class Bill:
    energy_sek: float = 0.0
    export_sek: float = 0.0
    import_kwh: float = 0.0
    controlled_kwh: dict[str, float] = field(default_factory=dict)
    capacity_sek: float = 0.0
    billed_peak_kw: float = 0.0
    top_peaks_kw: list[float] = field(default_factory=list)
    shaved_minutes: float = 0.0
    fixed_sek: float = 0.0

    @property
    def total_sek(self) -> float:
        return self.energy_sek - self.export_sek + self.capacity_sek + self.fixed_sek


def _month_bounds() -> tuple[float, float]:
    start = dt.datetime(*MONTH, 1, tzinfo=TZ)
    end = dt.datetime(MONTH[0] + MONTH[1] // 12, MONTH[1] % 12 + 1, 1, tzinfo=TZ)
    return start.timestamp(), end.timestamp()


def simulate_household(seed: int = 1) -> Month:
    start, end = _month_bounds()
    house = Household(dt.datetime.fromtimestamp(start, TZ), seed=seed)
    ticks, base, ev = [], [], []
    t = start
    while t < end:
        house.step(dt.datetime.fromtimestamp(t, TZ))
        local = dt.datetime.fromtimestamp(t, TZ)
        charging = house._ev_charging(local)  # the model's own EV evenings
        ticks.append(t)
        base.append(sum(house.phase_power_w) - (EV_W if charging else 0.0))
        ev.append(charging)
        t += TICK_S
    need: dict[dt.date, float] = {}
    for t, charging in zip(ticks, ev, strict=True):
        if charging:  # a charge belongs to the night after the evening it starts (noon to noon)
            night = dt.datetime.fromtimestamp(t - 12 * 3600, TZ).date()
            need[night] = need.get(night, 0.0) + TICK_S
    curve = PriceCurve(seed=seed, tz=TZ)
    spot: dict[float, float] = {}
    day = dt.datetime.fromtimestamp(start, TZ).date() - dt.timedelta(days=1)
    while day <= dt.datetime.fromtimestamp(end, TZ).date():
        for q, _end, eur in curve.day_entries("SE3", day):
            spot[q] = eur * SEK_PER_EUR
        day += dt.timedelta(days=1)
    return Month(ticks, base, ev, need, spot)


def scheduled_ticks(month: Month, tariff: Tariff) -> dict[str, set[float]]:
    """The ticks each load's schedule runs in, by the exporter's planner (the EV only until
    its night's energy is in: the last chosen quarter may be partly used)."""

    def total(q: float) -> float | None:
        spot = month.spot.get(q)
        return None if spot is None else tariff.import_price(spot, q)

    quarters = sorted({t - t % QUARTER for t in month.ticks})
    before = month.ticks[0] - 86400  # planned a day ahead, every price known
    heater, ev_rule = AUTOMATION.loads[1], AUTOMATION.loads[0]
    chosen = {d.start for d in plan(heater, total, quarters, before, TZ) if d.on}
    out = {"water_heater": {t for t in month.ticks if t - t % QUARTER in chosen}}
    ev: set[float] = set()
    assert ev_rule.cheapest is not None
    for night, seconds in month.ev_seconds_by_night.items():
        count = max(1, math.ceil(seconds / QUARTER))
        rule = ev_rule.model_copy(
            update={"cheapest": ev_rule.cheapest.model_copy(update={"quarters": count})}
        )
        start = dt.datetime.combine(night, dt.time(22), TZ).timestamp()
        window = [start + i * QUARTER for i in range(44)]  # 22:00–09:00, DST or not
        picked = sorted(
            d.start for d in plan(rule, total, window, before, TZ) if d.reason == "cheapest"
        )
        left = seconds
        for q in picked:
            t = q
            while t < q + QUARTER and left > 0:
                ev.add(t)
                left -= TICK_S
                t += TICK_S
    out["ev"] = ev
    return out


def thermostat_quarters(month: Month) -> set[float]:
    out = set()
    for t in month.ticks:
        hour = dt.datetime.fromtimestamp(t, TZ).hour
        if hour == 5 or 17 <= hour < 19:
            out.add(t - t % QUARTER)
    return out


def bill(
    month: Month, tariff: Tariff, wants: Callable[[str, int, float], bool], shave: bool
) -> Bill:
    assert TARIFF.capacity_fee is not None
    peaks = CapacityPeaks(TARIFF.capacity_fee, TZ, tariff.capacity_price_per_kw)
    peaks.track("home")
    shaver = None
    if shave:
        assert AUTOMATION.peak_shaving is not None
        shaver = PeakShaver(AUTOMATION.peak_shaving, AUTOMATION.loads, peaks, TZ)
    watts = {"ev": EV_W, "water_heater": HEATER_W}
    deficit = dict.fromkeys(watts, 0.0)  # seconds a shed load still owes
    result = Bill(controlled_kwh=dict.fromkeys(watts, 0.0))
    power = 0.0
    shed: tuple[str, ...] = ()
    for i, t in enumerate(month.ticks):
        q = t - t % QUARTER
        planned = {name: wants(name, i, q) for name in watts}
        if shaver is not None and t % SHAVE_EVERY_S == 0:
            shed = shaver.evaluate(t, power, _runs_if_allowed(planned, deficit)).shed
        power = month.base_w[i]
        for name, w in watts.items():
            run = (planned[name] or deficit[name] > 0) and name not in shed
            if planned[name] and name in shed:
                deficit[name] += TICK_S
            elif run and not planned[name]:
                deficit[name] -= TICK_S  # paying back what shaving deferred
            if run:
                power += w
                result.controlled_kwh[name] += w * TICK_S / 3.6e6
        if shed:
            result.shaved_minutes += TICK_S / 60
        kwh = power * TICK_S / 3.6e6
        spot = month.spot[q]
        if kwh >= 0:
            result.import_kwh += kwh
            result.energy_sek += kwh * tariff.import_price(spot, q)
            peaks.add("home", q, kwh)
        else:
            result.export_sek += -kwh * tariff.export_price(spot)
    end = month.ticks[-1] + TICK_S - 1  # the month's last second: its hours are all complete
    result.capacity_sek = peaks.fee("home", end) or 0.0
    result.billed_peak_kw = (peaks.billed_watts("home", end) or 0.0) / 1000
    result.top_peaks_kw = [p.watts / 1000 for p in peaks.peaks("home", end)]
    result.fixed_sek = tariff.monthly_fees()
    return result


def _runs_if_allowed(planned: dict[str, bool], deficit: dict[str, float]) -> Callable[[str], bool]:
    def wants_on(name: str) -> bool:
        return planned[name] or deficit[name] > 0

    return wants_on


def three_bills(seed: int = 1) -> dict[str, Bill]:
    month = simulate_household(seed)
    tariff = Tariff(TARIFF, TZ)
    scheduled = scheduled_ticks(month, tariff)
    thermostat = thermostat_quarters(month)

    def none(name: str, i: int, q: float) -> bool:
        return month.ev_baseline[i] if name == "ev" else q in thermostat

    def schedule(name: str, i: int, _q: float) -> bool:
        return month.ticks[i] in scheduled[name]

    return {
        "none": bill(month, tariff, none, shave=False),
        "schedules": bill(month, tariff, schedule, shave=False),
        "shaving": bill(month, tariff, schedule, shave=True),
    }


async def run(_workdir: Path) -> Result:
    result = Result("automation_bill", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    bills = three_bills()
    labels = {
        "none": "no automation",
        "schedules": "price schedules",
        "shaving": "schedules + peak shaving",
    }
    for key, b in bills.items():
        name = labels[key]
        result.measure(f"{key}_total_sek", f"{name}: bill", b.total_sek, "SEK")
        result.measure(
            f"{key}_energy_sek",
            f"{name}: energy (import − export)",
            b.energy_sek - b.export_sek,
            "SEK",
        )
        result.measure(f"{key}_capacity_sek", f"{name}: capacity fee", b.capacity_sek, "SEK")
        result.measure(
            f"{key}_billed_peak_kw", f"{name}: billed peak (mean of 3)", b.billed_peak_kw, "kW"
        )
        result.measure(f"{key}_import_kwh", f"{name}: imported", b.import_kwh, "kWh")
        result.measure(f"{key}_ev_kwh", f"{name}: EV charged", b.controlled_kwh["ev"], "kWh")
        result.measure(
            f"{key}_heater_kwh", f"{name}: water heater", b.controlled_kwh["water_heater"], "kWh"
        )
    result.measure("shaving_minutes", "peak shaving active", bills["shaving"].shaved_minutes, "min")
    none, sched, shave = bills["none"], bills["schedules"], bills["shaving"]
    saved_sched = result.measure(
        "saved_schedules_sek", "saved by schedules", none.total_sek - sched.total_sek, "SEK"
    )
    saved_all = result.measure(
        "saved_total_sek", "saved by schedules + shaving", none.total_sek - shave.total_sek, "SEK"
    )
    peak_cut = result.measure(
        "peak_reduction_kw",
        "billed peak: none − schedules + shaving",
        none.billed_peak_kw - shave.billed_peak_kw,
        "kW",
    )
    energy_gap = max(
        abs(b.controlled_kwh[n] - none.controlled_kwh[n])
        for b in bills.values()
        for n in b.controlled_kwh
    )
    result.measure(
        "energy_gap_kwh",
        "largest difference in a load's energy between scenarios",
        energy_gap,
        "kWh",
    )
    result.targets += [
        Target("saved_schedules", "schedules save money", saved_sched, ">=", 1.0, "SEK"),
        Target("saved_total", "shaving saves more", saved_all - saved_sched, ">=", 1.0, "SEK"),
        Target("peak_reduction", "billed peak lower", peak_cut, ">=", 0.1, "kW"),
        Target("same_energy", "every load gets its energy", energy_gap, "<=", 0.5, "kWh"),
    ]
    result.notes.append(
        "January 2026, household seed 1, SE3 price curve seed 1, Ellevio-like tariff "
        "(docs/prices.md); EV 11 kW and a 3 kW water heater switchable."
    )
    return result
