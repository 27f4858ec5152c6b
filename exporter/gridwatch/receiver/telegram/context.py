"""What every command's text needs: the language, the peers, the plugs, the time zone and clock,
and the small formatting helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gridwatch.receiver.ports import PlugActions
from gridwatch.receiver.telegram.queries import Peers
from gridwatch.receiver.telegram.templates import Catalog


@dataclass
class Context:
    catalog: Catalog
    peers: Peers
    plugs: PlugActions | None
    tz: ZoneInfo
    clock: Callable[[], float]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def t(self, key: str, /, **values: object) -> str:
        return self.catalog.t(key, **values)

    def clock_time(self, ts: float, tz: ZoneInfo | None = None) -> str:
        """``HH:MM`` today, ``dd.mm HH:MM`` on another day (in ``tz`` or the bot's zone)."""
        zone = tz or self.tz
        local = datetime.fromtimestamp(ts, zone)
        if local.date() == self.now().astimezone(zone).date():
            return local.strftime("%H:%M")
        return local.strftime("%d.%m %H:%M")

    def unit(self, value: float, unit: str, digits: int = 0) -> str:
        return f"{self.catalog.number(value, digits)} {unit}"

    def percent(self, ratio: float) -> str:
        return self.unit(ratio * 100, "%")
