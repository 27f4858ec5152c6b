"""The price book: every known day, cached in the SQLite state file and indexed by slot.

A fetched day is written once and never fetched again; a restart reads it back from the file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gridwatch.core.statedb import StateDB
from gridwatch.energy.tariff import Tariff
from gridwatch.sources.prices.slots import DayPrices, hourly_means, local_day

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS price_days (
    area TEXT NOT NULL,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    provider TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    starts TEXT NOT NULL,
    spot TEXT NOT NULL,
    PRIMARY KEY (area, day, currency)
)
"""
_KEEP_IN_MEMORY = dt.timedelta(days=62)  # older days stay in the file only


@dataclass(frozen=True, slots=True)
class SlotPrice:
    """What one kWh costs or earns in one quarter, currency per kWh."""

    start: float
    quarter_spot: float  # the market's quarter price
    spot: float  # the billed spot: the quarter, or its hour's mean on an hourly contract
    total: float | None  # import, all fees and VAT (None without a tariff)
    export: float | None  # what an exported kWh earns (None without a tariff)


class PriceBook:
    def __init__(
        self,
        db: StateDB | None,
        *,
        area: str,
        currency: str,
        tz: ZoneInfo,
        hourly: bool = False,
        tariff: Tariff | None = None,
    ) -> None:
        self.area = area
        self.currency = currency
        self.tz = tz
        self.hourly = hourly
        self.tariff = tariff
        self._db = db
        self._days: dict[dt.date, DayPrices] = {}
        self._slots: dict[float, SlotPrice] = {}
        self._absent: set[dt.date] = set()  # looked up in the file and not there
        self._listeners: list[Callable[[DayPrices], None]] = []
        if db is not None:
            db.ensure_schema(_SCHEMA)

    def on_new_day(self, listener: Callable[[DayPrices], None]) -> None:
        """Call ``listener`` whenever a day's prices come into memory."""
        self._listeners.append(listener)

    # -- reading --------------------------------------------------------------------------------

    def day(self, day: dt.date, *, load: bool = True) -> DayPrices | None:
        """A known day; ``load=False`` looks in memory only (for scrapes, which do no I/O)."""
        known = self._days.get(day)
        if known is not None or not load or day in self._absent:
            return known
        loaded = self._load(day)
        if loaded is None:
            self._absent.add(day)
        else:
            self._index(loaded)
            self._notify(loaded)
        return loaded

    def has(self, day: dt.date) -> bool:
        return self.day(day) is not None

    def slot(self, start: float, *, load: bool = True) -> SlotPrice | None:
        """The price of the quarter starting at ``start`` (a multiple of 900 s), if known."""
        found = self._slots.get(start)
        if found is None and load and self.day(local_day(start, self.tz)) is not None:
            found = self._slots.get(start)
        return found

    def cached_slot(self, start: float) -> SlotPrice | None:
        return self.slot(start, load=False)

    def slots(self, day: dt.date, *, load: bool = True) -> list[SlotPrice]:
        prices = self.day(day, load=load)
        if prices is None:
            return []
        return [self._slots[start] for start in prices.starts]

    def preload(self, days: Iterable[dt.date]) -> None:
        """Read these days from the state file now, so later scrapes find them in memory."""
        for day in days:
            self.day(day)

    # -- writing --------------------------------------------------------------------------------

    def add(self, prices: DayPrices) -> None:
        """Keep a freshly fetched day (in the file first, so a crash cannot lose it)."""
        if self._db is not None:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO price_days VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        prices.area,
                        prices.day.isoformat(),
                        prices.currency,
                        prices.provider,
                        time.time(),
                        json.dumps(prices.starts),
                        json.dumps(prices.spot),
                    ),
                )
        self._absent.discard(prices.day)
        self._index(prices)
        self._notify(prices)

    def _notify(self, prices: DayPrices) -> None:
        """Tell listeners a day is in memory now (fetched, or read back from the file)."""
        for listener in self._listeners:
            listener(prices)

    def _load(self, day: dt.date) -> DayPrices | None:
        if self._db is None:
            return None
        row = self._db.connection.execute(
            "SELECT provider, starts, spot FROM price_days WHERE area = ? AND day = ? "
            "AND currency = ?",
            (self.area, day.isoformat(), self.currency),
        ).fetchone()
        if row is None:
            return None
        try:
            starts = tuple(float(s) for s in json.loads(row[1]))
            spot = tuple(float(p) for p in json.loads(row[2]))
        except (ValueError, TypeError):
            log.warning("cached prices of %s are unreadable; fetching them again", day)
            return None
        if len(starts) != len(spot) or not starts:
            return None
        return DayPrices(day, self.area, self.currency, row[0], starts, spot)

    def _index(self, prices: DayPrices) -> None:
        self._days[prices.day] = prices
        billed = hourly_means(prices.starts, prices.spot, self.tz) if self.hourly else prices.spot
        for start, quarter, spot in zip(prices.starts, prices.spot, billed, strict=True):
            total = export = None
            if self.tariff is not None:
                total = self.tariff.import_price(spot, start)
                export = self.tariff.export_price(spot)
            self._slots[start] = SlotPrice(start, quarter, spot, total, export)
        oldest = max(self._days) - _KEEP_IN_MEMORY
        for old in [d for d in self._days if d < oldest]:
            for start in self._days.pop(old).starts:
                self._slots.pop(start, None)
