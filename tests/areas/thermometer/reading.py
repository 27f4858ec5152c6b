"""One temperature, as the thermometer said it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    received_at: float
    celsius: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.celsius) or not -60 <= self.celsius <= 100:
            raise ValueError(f"implausible temperature {self.celsius}")
