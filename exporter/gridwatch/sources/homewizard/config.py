"""The ``meters:`` section: HomeWizard P1 meters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from gridwatch.config_types import Duration, Strict, read_secret_file, relative_to_config


class HomeWizardMeter(Strict):
    """A HomeWizard P1 meter (``type: homewizard``)."""

    type: Literal["homewizard"] = "homewizard"
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    host: str = Field(min_length=1)
    api: Literal["auto", "v1", "v2"] = "auto"
    token: SecretStr | None = None
    token_file: Path | None = None
    # The TLS name is appliance/p1dongle/<serial>; read from the device when absent.
    serial: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{12}$")
    ca_file: Path | None = None
    http_port: int | None = Field(default=None, ge=1, le=65535)
    https_port: int | None = Field(default=None, ge=1, le=65535)
    push: bool = True
    interval: Duration = 10.0
    timeout: Duration = 5.0
    stale_after: Duration | None = None
    fuse_amperes: float = Field(default=16.0, gt=0, le=400)
    imbalance_warning_amperes: float = Field(default=5.0, gt=0)
    imbalance_critical_amperes: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> HomeWizardMeter:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set either token or token_file, not both")
        if self.api == "v2" and self.token is None and self.token_file is None:
            raise ValueError(
                "api v2 needs a token: run `gridwatch pair-homewizard HOST` and set token_file"
            )
        if self.imbalance_critical_amperes < self.imbalance_warning_amperes:
            raise ValueError("imbalance_critical_amperes must be ≥ imbalance_warning_amperes")
        return self

    _relative = field_validator("token_file", "ca_file")(relative_to_config)

    @field_validator("token_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not read_secret_file(value):
            raise ValueError(f"secret file {value} is empty")
        return value

    def resolved_token(self) -> str | None:
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None:
            return read_secret_file(self.token_file)
        return None

    @property
    def uses_v2(self) -> bool:
        return self.api == "v2" or (self.api == "auto" and self.token_or_file_set)

    @property
    def token_or_file_set(self) -> bool:
        return self.token is not None or self.token_file is not None

    @property
    def staleness(self) -> float:
        return self.stale_after if self.stale_after is not None else 3 * self.interval


def _unique_names(meters: list[HomeWizardMeter]) -> list[HomeWizardMeter]:
    seen: set[str] = set()
    for meter in meters:
        if meter.name in seen:
            raise ValueError(f"meter name {meter.name!r} is used twice")
        seen.add(meter.name)
    return meters


Meters = Annotated[list[HomeWizardMeter], AfterValidator(_unique_names)]
