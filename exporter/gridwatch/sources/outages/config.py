"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from gridwatch.config_types import Duration, Strict
from gridwatch.sources.outages.providers import NEEDS_URL, PROVIDERS, QUEUE_PATTERNS


class OutagesConfig(Strict):
    """The outage schedule of one queue (`outages:`)."""

    operator: str = "be-svitlo"
    # e.g. "5.2" = черга 5, підчерга 2; DTEK's Dnipro page names ЦЕК queues "1001.1" … "1006.2"
    queue: str = Field(pattern=r"^\d{1,4}\.\d{1,2}$")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    url: str | None = None  # the operator's API base URL; default is the operator's own
    interval: Duration = 600.0
    timeout: Duration = 20.0
    # How long a downloaded schedule keeps being used while the operator is unreachable; the
    # windows are a plan published a day ahead, so hours are fine. Days never become "published"
    # by age: an unpublished tomorrow stays unpublished.
    stale_after: Duration = 6 * 3600.0
    # Data the operator (or its mirror) has not refreshed for this long reads "no data", not a
    # schedule; default per operator (dtek-gpv: 2 days), none for operators answering live.
    data_max_age: Duration | None = None
    typical_load_watts: float | None = Field(default=None, gt=0)
    battery_reserve_ratio: float = Field(default=0.0, ge=0, lt=1)

    @field_validator("operator")
    @classmethod
    def _known_operator(cls, value: str) -> str:
        # Looked up at validation time: registering a provider is all a new operator needs.
        if value not in PROVIDERS:
            raise ValueError(f"unknown operator {value!r} (known: {', '.join(PROVIDERS)})")
        return value

    @field_validator("queue", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # YAML reads 5.2 as a number (and 5.10 as 5.1), so the code must be a string.
            raise ValueError(f'write the queue in quotes, e.g. queue: "{value}"')
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _queue_of_operator(self) -> OutagesConfig:
        pattern = QUEUE_PATTERNS.get(self.operator)
        if pattern is not None and not re.match(pattern, self.queue):
            raise ValueError(
                f"queue {self.queue!r} is not a {self.operator} group (1.1 … 6.2); "
                "docs/outages.md says how to find yours"
            )
        return self

    @model_validator(mode="after")
    def _url_when_needed(self) -> OutagesConfig:
        if self.operator in NEEDS_URL and self.url is None:
            raise ValueError(
                f"operator {self.operator} needs url: the mirror's JSON file (docs/outages.md)"
            )
        return self

    @model_validator(mode="after")
    def _keeps_between_downloads(self) -> OutagesConfig:
        if self.stale_after < self.interval:
            # Otherwise the schedule would vanish between two good downloads.
            raise ValueError(
                f"stale_after ({self.stale_after:g}s) must be at least interval "
                f"({self.interval:g}s)"
            )
        return self

    @property
    def device(self) -> str:
        """The source's device label: the configured name, else the queue."""
        return self.name or self.queue


def _distinct(queues: list[OutagesConfig]) -> list[OutagesConfig]:
    # Series are labelled by queue and sources by device: two entries must differ in both.
    if not queues:
        raise ValueError("give at least one queue (or leave outages out)")
    for what, values in (
        ("queue", [q.queue for q in queues]),
        ("name", [q.device for q in queues]),
    ):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"{what} {', '.join(repeated)} appears twice; each queue once")
    return queues


OutagesList = Annotated[list[OutagesConfig], AfterValidator(_distinct)]
