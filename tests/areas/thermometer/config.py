"""The ``thermometers:`` section."""

from __future__ import annotations

from pydantic import Field

from gridwatch.config_types import Duration, Strict


class ThermometerConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    url: str
    interval: Duration = 10.0
    timeout: Duration = 5.0

    @property
    def staleness(self) -> float:
        return 3 * self.interval
