"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from gridwatch.config_types import Duration, Strict

Area = Literal[
    "SE1", "SE2", "SE3", "SE4", "NO1", "NO2", "NO3", "NO4", "NO5", "DK1", "DK2", "FI"
]  # fmt: skip
Provider = Literal["elprisetjustnu", "nordpool"]

# elprisetjustnu.se and its sister sites share one format (PROTOCOLS.md §3.2).
SISTER_SITES = {
    "SE": "https://www.elprisetjustnu.se/api/v1/prices",
    "NO": "https://www.hvakosterstrommen.no/api/v1/prices",
    "DK": "https://www.elprisenligenu.dk/api/v1/prices",
    "FI": "https://www.sahkonhintatanaan.fi/api/v1/prices",
}
CURRENCIES = {"SE": "SEK", "NO": "NOK", "DK": "DKK", "FI": "EUR"}
NORDPOOL_URL = "https://dataportal-api.nordpoolgroup.com/api"


class PricesConfig(Strict):
    """Where spot prices come from (`prices:`)."""

    area: Area
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # default: the area's
    resolution: Literal["quarter", "hour"] = "quarter"  # "hour": timpris, mean of 4 quarters
    providers: list[Provider] = Field(default=["elprisetjustnu", "nordpool"], min_length=1)
    elprisetjustnu_url: str | None = None  # default: the sister site of the area's country
    nordpool_url: str = NORDPOOL_URL
    timeout: Duration = 15.0
    retry_interval: Duration = 900.0  # tomorrow not published yet: ask again after this
    publish_after: dt.time = dt.time(13, 0)  # CET/CEST; tomorrow is not asked for before

    @field_validator("publish_after", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 13:30 as the sexagesimal number 810, which pydantic would
        # take as 810 seconds after midnight: refuse it instead of silently using 00:13:30.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError('write the time in quotes, e.g. publish_after: "13:30"')
        return value

    @field_validator("providers")
    @classmethod
    def _unique(cls, value: list[Provider]) -> list[Provider]:
        if len(set(value)) != len(value):
            raise ValueError("each provider may be listed once")
        return value

    @field_validator("elprisetjustnu_url", "nordpool_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return None if value is None else value.rstrip("/")

    @property
    def country(self) -> str:
        return self.area[:2]

    @property
    def price_currency(self) -> str:
        return self.currency or CURRENCIES[self.country]

    @property
    def elprisetjustnu_base(self) -> str:
        return self.elprisetjustnu_url or SISTER_SITES[self.country]
