"""Where "now" comes from. Everything that decides by the time of day (publication of prices,
tariff windows, outage days, the demo's simulators) takes a ``Clock`` from its caller, so tests
and `gridwatch demo --at` can run at any chosen instant instead of the machine's."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], float]  # Unix seconds, like time.time


def system_clock() -> float:
    return time.time()


def advancing_from(start: float) -> Clock:
    """A clock that reads ``start`` now and then advances in real time (monotonic, so a
    machine's clock step does not move it)."""
    origin = time.monotonic()

    def now() -> float:
        return start + (time.monotonic() - origin)

    return now


def parse_instant(text: str) -> float:
    """An ISO 8601 instant with its UTC offset ("2026-01-14T06:00:00+01:00", "…Z")."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from exc
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (write e.g. 2026-01-14T06:00:00+01:00)")
    return when.timestamp()
