"""Peak shaving for the capacity fee: keep the hour under the month's counted peaks.

From the energy of the clock hour so far and the present power, the hour's average is predicted
as if the present power held until the hour ends, weighted as the rule counts it (night hours
at half, say). When that would set a new counted peak — above the lowest of the month's N
counted peaks, or above today's own peak when peaks must be on distinct days — less a margin,
loads are switched off in the configured order until the prediction is under it. A load comes
back (last shed first) once the prediction with its rated power back on stays under the limit,
or when the hour ends. The set of shed loads is kept per hour in the state file, so a restart
inside the hour neither restores them early nor sheds twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gridwatch.core.statedb import StateDB
from gridwatch.energy.automation_config import LoadConfig, PeakShavingConfig
from gridwatch.energy.peaks import HOUR, CapacityPeaks

_SCHEMA = """CREATE TABLE IF NOT EXISTS peak_shaving (
    meter TEXT PRIMARY KEY,
    hour REAL NOT NULL,
    shed TEXT NOT NULL
)"""


@dataclass(frozen=True, slots=True)
class Shaving:
    """The state after one evaluation (what the metrics and the JSON API show)."""

    hour: float  # start of the clock hour
    predicted_watts: float | None  # the hour's weighted average as predicted, None: not counted
    limit_watts: float | None  # the prediction must stay under this; None: nothing to protect
    shed: tuple[str, ...]  # loads switched off now, in shedding order

    @property
    def active(self) -> bool:
        return bool(self.shed)


def hour_start(now: float, tz: ZoneInfo) -> float:
    local = dt.datetime.fromtimestamp(now, tz)
    return float(round(now - local.minute * 60 - local.second - local.microsecond / 1e6))


def limit(peaks: CapacityPeaks, hour: float, rule: PeakShavingConfig, tz: ZoneInfo) -> float | None:
    """The weighted average this hour may reach without raising the bill, less the margin."""
    counted = peaks.peaks(rule.meter, hour)
    if len(counted) < peaks.rule.peaks:
        floor = rule.early_month_watts
    else:
        floor = min(p.watts for p in counted)
    if floor is not None and peaks.rule.distinct_days:
        day = dt.datetime.fromtimestamp(hour, tz).date()
        for p in counted:
            if dt.datetime.fromtimestamp(p.start, tz).date() == day:
                floor = max(floor, p.watts)  # today's peak is replaced, not added
    return None if floor is None else max(0.0, floor - rule.margin_watts)


def predict(so_far_wh: float, power_w: float, now: float, hour: float, weight: float) -> float:
    """The hour's weighted average (W) if ``power_w`` holds until the hour ends."""
    remaining = max(0.0, hour + HOUR - now)
    return (so_far_wh + power_w * remaining / 3600.0) * weight


class PeakShaver:
    def __init__(
        self,
        rule: PeakShavingConfig,
        loads: list[LoadConfig],
        peaks: CapacityPeaks,
        tz: ZoneInfo,
        db: StateDB | None = None,
    ) -> None:
        self.rule = rule
        self._loads = {load.name: load for load in loads}
        self._peaks = peaks
        self._tz = tz
        self._db = db
        self._hour = 0.0
        self._shed: list[str] = []
        if db is not None:
            db.ensure_schema(_SCHEMA)
            row = db.connection.execute(
                "SELECT hour, shed FROM peak_shaving WHERE meter = ?", (rule.meter,)
            ).fetchone()
            if row is not None:
                self._hour, self._shed = float(row[0]), list(json.loads(row[1]))
        self.last = Shaving(self._hour, None, None, tuple(self._shed))

    def evaluate(
        self, now: float, power_w: float | None, wants_on: Callable[[str], bool] = lambda _n: True
    ) -> Shaving:
        """One step: ``power_w`` is the meter's present import, ``wants_on(load)`` whether the
        load would run now (a load its schedule keeps off brings no relief)."""
        hour = hour_start(now, self._tz)
        if hour != self._hour:
            self._hour, self._shed = hour, []  # a new hour: everything comes back
        weight = self._peaks.weight(hour)
        cap = limit(self._peaks, hour, self.rule, self._tz)
        so_far = self._peaks.current_hour_watts(self.rule.meter, now)
        if weight is None or weight == 0 or cap is None or so_far is None or power_w is None:
            if self._shed:
                self._shed = []
                self._store()
            self.last = Shaving(hour, None, cap, ())
            return self.last
        power = max(0.0, power_w)
        predicted = predict(so_far, power, now, hour, weight)
        # Shed more while over the limit.
        for name in self.rule.loads:
            if predicted <= cap:
                break
            if name in self._shed or not wants_on(name):
                continue
            self._shed.append(name)
            power = max(0.0, power - self._watts(name))
            predicted = predict(so_far, power, now, hour, weight)
        # Restore (last shed first) while the load's power fits under the limit.
        while self._shed:
            name = self._shed[-1]
            back = predict(so_far, power + self._watts(name), now, hour, weight)
            if back > cap:
                break
            self._shed.pop()
            power += self._watts(name)
            predicted = back
        if tuple(self._shed) != self.last.shed or hour != self.last.hour:
            self._store()  # only on a change: readings come every second
        self.last = Shaving(hour, predicted, cap, tuple(self._shed))
        return self.last

    def _watts(self, name: str) -> float:
        load = self._loads.get(name)
        return load.watts if load is not None else 0.0

    def _store(self) -> None:
        if self._db is None:
            return
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO peak_shaving (meter, hour, shed) VALUES (?, ?, ?)",
                (self.rule.meter, self._hour, json.dumps(self._shed)),
            )
