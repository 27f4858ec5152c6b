"""Cost accounting from a meter's own energy counters.

Every import/export delta between two readings is spread evenly over the time between them and
priced at the quarter(s) it falls in, split at quarter boundaries. Energy of a quarter whose price
is not known yet waits in ``pending`` and is priced when the day arrives. A counter that goes
backwards, jumps implausibly, or belongs to another meter (new ``unique_id``) starts a new
baseline instead of a spike.

The state (baseline, totals, open and pending energy, period sums, hourly peaks) is saved as one
snapshot per meter. Baseline and totals always match each other, so a restart — even after a
crash — continues exactly: the first reading after it prices the energy since the snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gridwatch.core.statedb import StateDB
from gridwatch.energy.peaks import CapacityPeaks

log = logging.getLogger(__name__)

QUARTER = 900.0
DIRECTIONS = ("import", "export")
PERIODS = ("quarter", "hour", "day", "month")
NAMESPACE = "cost"


class PricedSlot(Protocol):
    @property
    def spot(self) -> float: ...
    @property
    def total(self) -> float | None: ...
    @property
    def export(self) -> float | None: ...


PriceLookup = Callable[[float], PricedSlot | None]


@dataclass(slots=True)
class Sums:
    kwh: float = 0.0
    spot: float = 0.0  # energy × spot price (excl. VAT)
    total: float = 0.0  # energy × full tariff price (import incl. VAT; export: compensation)

    def add(self, kwh: float, spot: float, total: float) -> None:
        self.kwh += kwh
        self.spot += spot
        self.total += total


@dataclass(slots=True)
class _Direction:
    meter: str
    direction: str
    totals: Sums = field(default_factory=Sums)
    open_slot: float = -1.0  # quarter collecting energy right now
    open_kwh: float = 0.0
    pending: dict[float, float] = field(default_factory=dict)  # quarter → kWh without a price
    periods: dict[str, tuple[Any, Sums]] = field(default_factory=dict)  # name → (key, sums)


@dataclass(slots=True)
class _Meter:
    last_ts: float | None = None
    last: dict[str, float] = field(default_factory=dict)  # direction → counter kWh
    unique_id: str | None = None
    resets: int = 0
    dirs: dict[str, _Direction] = field(default_factory=dict)


def _new_meter(meter: str) -> _Meter:
    return _Meter(dirs={d: _Direction(meter, d) for d in DIRECTIONS})


class CostAccounting:
    def __init__(
        self,
        prices: PriceLookup,
        tz: ZoneInfo,
        *,
        db: StateDB | None = None,
        peaks: CapacityPeaks | None = None,
        persist_every: float = 60.0,
        max_power_kw: float = 250.0,
        namespace: str = NAMESPACE,  # sub-meters keep their own, apart from the grid meters
    ) -> None:
        self._namespace = namespace
        self._prices = prices
        self._tz = tz
        self._db = db
        self.peaks = peaks
        self._persist_every = persist_every
        self._max_kw = max_power_kw
        self._meters: dict[str, _Meter] = {}
        self._next_persist: dict[str, float] = {}
        self._keys: dict[float, tuple[Any, ...]] = {}
        if db is not None:
            self._load(db)

    # -- input ----------------------------------------------------------------------------------

    def observe(
        self,
        meter: str,
        ts: float,
        import_kwh: float | None,
        export_kwh: float | None,
        unique_id: str | None = None,
    ) -> None:
        m = self._meters.get(meter)
        if m is None:
            m = self._meters[meter] = _new_meter(meter)
            if self.peaks is not None:  # a meter that only exports still has a fee (0) and hour
                self.peaks.track(meter)
        if m.last_ts is not None and ts <= m.last_ts:
            return  # a repeated or out-of-order reading adds nothing
        if unique_id and m.unique_id and unique_id != m.unique_id:
            log.warning(
                "meter %s was replaced (%s → %s): new baseline", meter, m.unique_id, unique_id
            )
            m.last.clear()
            m.resets += 1
        if unique_id:
            m.unique_id = unique_id
        for direction, value in (("import", import_kwh), ("export", export_kwh)):
            if value is None:
                continue
            last = m.last.get(direction)
            m.last[direction] = value
            if last is None or m.last_ts is None:
                continue
            delta = value - last
            if delta == 0.0:
                continue
            hours = (ts - m.last_ts) / 3600.0
            if delta < 0 or (delta > 1.0 and delta > self._max_kw * hours):
                log.warning(
                    "meter %s %s counter jumped %.3f → %.3f kWh: new baseline, not priced",
                    meter, direction, last, value,
                )  # fmt: skip
                m.resets += 1
                continue
            self._spread(m.dirs[direction], m.last_ts, ts, delta)
        m.last_ts = ts
        if self._db is not None and ts >= self._next_persist.get(meter, 0.0):
            self._next_persist[meter] = ts + self._persist_every
            self.persist(meter)

    def on_reading(self, meter: str, reading: Any) -> None:
        """Adapter for ``StateStore.observe``: anything with the P1 reading's fields."""
        self.observe(
            meter,
            reading.received_at,
            reading.energy_import_kwh,
            reading.energy_export_kwh,
            reading.unique_id,
        )

    def _spread(self, d: _Direction, t0: float, t1: float, kwh: float) -> None:
        first = t0 - t0 % QUARTER
        if t1 <= first + QUARTER:  # the common case: both readings in one quarter
            self._put(d, first, kwh)
            return
        per_second = kwh / (t1 - t0)
        start = t0
        slot = first
        while start < t1:
            end = min(slot + QUARTER, t1)
            self._put(d, slot, per_second * (end - start))
            start = end
            slot += QUARTER

    def _put(self, d: _Direction, slot: float, kwh: float) -> None:
        if slot == d.open_slot:
            d.open_kwh += kwh
            return
        self._realise(d)
        d.open_slot, d.open_kwh = slot, kwh

    def _realise(self, d: _Direction, lookup: PriceLookup | None = None) -> None:
        kwh, slot = d.open_kwh, d.open_slot
        if not kwh:
            return
        d.open_kwh = 0.0
        if d.direction == "import" and self.peaks is not None:
            self.peaks.add(d.meter, slot, kwh)
        price = (lookup or self._prices)(slot)
        if price is None:
            d.pending[slot] = d.pending.get(slot, 0.0) + kwh
        else:
            self._apply(d, slot, kwh, price)

    def _apply(self, d: _Direction, slot: float, kwh: float, price: PricedSlot) -> None:
        full = price.total if d.direction == "import" else price.export
        spot, total = kwh * price.spot, kwh * (full or 0.0)
        d.totals.add(kwh, spot, total)
        for name, key in zip(PERIODS, self._period_keys(slot), strict=True):
            current = d.periods.get(name)
            if current is None or key > current[0]:
                d.periods[name] = (key, Sums(kwh, spot, total))
            elif key == current[0]:
                current[1].add(kwh, spot, total)
            # an older period: already over, its energy is in the totals only

    def _period_keys(self, slot: float) -> tuple[Any, ...]:
        keys = self._keys.get(slot)
        if keys is None:
            local = dt.datetime.fromtimestamp(slot, self._tz)
            hour = slot - local.minute * 60
            keys = (slot, hour, local.date().isoformat(), f"{local.year:04d}-{local.month:02d}")
            if len(self._keys) > 4096:
                self._keys.clear()
            self._keys[slot] = keys
        return keys

    # -- prices arriving late -------------------------------------------------------------------

    def price_pending(self) -> None:
        """Price waiting energy whose quarter has a price now (call when a day arrives)."""
        for m in self._meters.values():
            for d in m.dirs.values():
                for slot in sorted(d.pending):
                    price = self._prices(slot)
                    if price is not None:
                        self._apply(d, slot, d.pending.pop(slot), price)

    def pending_days(self) -> set[dt.date]:
        """Local days that hold energy waiting for prices."""
        return {
            dt.datetime.fromtimestamp(slot, self._tz).date()
            for m in self._meters.values()
            for d in m.dirs.values()
            for slot in d.pending
        }

    # -- output (memory only) -------------------------------------------------------------------

    def realise_open(self, lookup: PriceLookup | None = None) -> None:
        """Move the energy of the open quarters into the totals (before a scrape, with a
        memory-only ``lookup``: a quarter without a price in memory waits in ``pending``)."""
        for m in self._meters.values():
            for d in m.dirs.values():
                self._realise(d, lookup)

    def meters(self) -> list[str]:
        return sorted(self._meters)

    def has_counter(self, meter: str, direction: str) -> bool:
        m = self._meters.get(meter)
        return m is not None and direction in m.last

    def totals(self, meter: str, direction: str) -> Sums:
        return self._meters[meter].dirs[direction].totals

    def unpriced_kwh(self, meter: str, direction: str) -> float:
        d = self._meters[meter].dirs[direction]
        return sum(d.pending.values())

    def resets(self, meter: str) -> int:
        return self._meters[meter].resets

    def period(self, meter: str, direction: str, name: str, now: float) -> Sums:
        """Sums of the current quarter, hour, local day or month (zero when nothing yet)."""
        key = self._period_keys(now - now % QUARTER)[PERIODS.index(name)]
        current = self._meters[meter].dirs[direction].periods.get(name)
        return current[1] if current is not None and current[0] == key else Sums()

    # -- persistence ----------------------------------------------------------------------------

    def persist(self, meter: str | None = None) -> None:
        if self._db is None:
            return
        names: Iterable[str] = [meter] if meter is not None else list(self._meters)
        with self._db.transaction() as conn:
            for name in names:
                StateDB.put_in(conn, self._namespace, name, self._snapshot(name))

    def _snapshot(self, meter: str) -> dict[str, Any]:
        m = self._meters[meter]
        dirs = {}
        for direction, d in m.dirs.items():
            dirs[direction] = {
                "totals": [d.totals.kwh, d.totals.spot, d.totals.total],
                "open": [d.open_slot, d.open_kwh],
                "pending": [[slot, kwh] for slot, kwh in d.pending.items()],
                "periods": {
                    name: [key, s.kwh, s.spot, s.total] for name, (key, s) in d.periods.items()
                },
            }
        return {
            "last_ts": m.last_ts,
            "last": m.last,
            "unique_id": m.unique_id,
            "resets": m.resets,
            "dirs": dirs,
            "peaks": self.peaks.state(meter) if self.peaks is not None else None,
        }

    def _load(self, db: StateDB) -> None:
        for meter, data in db.items(self._namespace):
            try:
                m = _new_meter(meter)
                m.last_ts, m.last, m.unique_id, m.resets = (
                    data["last_ts"],
                    {k: float(v) for k, v in data["last"].items()},
                    data["unique_id"],
                    int(data["resets"]),
                )
                for direction, saved in data["dirs"].items():
                    d = m.dirs[direction]
                    d.totals = Sums(*saved["totals"])
                    d.open_slot, d.open_kwh = saved["open"]
                    d.pending = {float(s): float(k) for s, k in saved["pending"]}
                    d.periods = {
                        name: (key, Sums(kwh, spot, total))
                        for name, (key, kwh, spot, total) in saved["periods"].items()
                    }
                if self.peaks is not None and data.get("peaks"):
                    self.peaks.restore(meter, data["peaks"])
            except (KeyError, TypeError, ValueError) as exc:
                log.warning(
                    "saved cost state of meter %s is unreadable (%s); starting anew", meter, exc
                )
                continue
            self._meters[meter] = m
