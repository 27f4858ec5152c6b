"""The `automation:` section: price schedules per switchable load and peak shaving.

The exporter plans (it holds the prices and the month's peaks); the receiver switches (it owns
the plug backends and the durable outbox). Both read this one section: docs/automation.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gridwatch.config_types import Duration, Strict


def _quoted(value: object) -> object:
    # YAML 1.1 reads an unquoted 22:00 as the sexagesimal number 1320: refuse, do not guess.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError('write the time in quotes, e.g. "22:00"')
    return value


class TimeWindow(Strict):
    """Local wall-clock times; ``end`` ≤ ``start`` means the window ends the next day."""

    start: dt.time
    end: dt.time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        return _quoted(value)


class CheapestRule(Strict):
    """On for the ``quarters`` cheapest quarters of every window."""

    quarters: int = Field(ge=1, le=100)
    window: TimeWindow


class LoadConfig(Strict):
    """One switchable load (`automation.loads[]`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    plug: str  # the receiver's switch: a Tuya plug (or any other backend's switch) by name
    watts: float = Field(default=0.0, ge=0)  # rated power: peak shaving's estimate of relief
    cheapest: CheapestRule | None = None
    on_below: float | None = None  # on whenever the price per kWh is below this
    off_above: float | None = None  # never on while the price per kWh is above this
    min_run: Duration = 900.0  # chosen quarters come in runs at least this long
    latest_finish: dt.time | None = None  # the cheapest quarters end by then (local)
    fallback: Literal["on", "off"] = "off"  # a quarter whose price is not known

    @field_validator("latest_finish", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        return _quoted(value)

    @model_validator(mode="after")
    def _some_rule(self) -> LoadConfig:
        if self.cheapest is None and self.on_below is None:
            raise ValueError("give cheapest or on_below (or both)")
        if self.min_run % 900:
            raise ValueError("min_run must be whole quarters (15m, 30m, 1h …)")
        return self

    @property
    def min_run_quarters(self) -> int:
        return max(1, int(self.min_run // 900))


class PeakShavingConfig(Strict):
    """Switch loads off while the hour would set a new counted capacity-fee peak."""

    meter: str  # the P1 meter whose hours the capacity fee counts
    loads: list[str] = Field(min_length=1)  # switched off in this order, restored in reverse
    margin_watts: float = Field(default=200.0, ge=0)  # act this far below the peak
    # Before the month has its N counted peaks every hour would count: shave above this only.
    early_month_watts: float | None = Field(default=None, ge=0)


class AutomationConfig(Strict):
    loads: list[LoadConfig] = Field(default_factory=list)
    peak_shaving: PeakShavingConfig | None = None
    # The receiver's side: where it reads the plan, and how often.
    exporter_url: str = "http://127.0.0.1:9864"
    poll_interval: Duration = 30.0
    notify: bool = False  # a Telegram message for every scheduled switch (chatty: off)

    @model_validator(mode="after")
    def _names(self) -> AutomationConfig:
        names = [load.name for load in self.loads]
        if len(set(names)) != len(names):
            raise ValueError("each load name may be used once")
        if self.peak_shaving is not None:
            unknown = [n for n in self.peak_shaving.loads if n not in names]
            if unknown:
                raise ValueError(f"peak_shaving.loads names unknown loads: {', '.join(unknown)}")
        return self

    def load(self, name: str) -> LoadConfig | None:
        return next((load for load in self.loads if load.name == name), None)
