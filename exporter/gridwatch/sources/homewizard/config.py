"""The ``meters:`` section (HomeWizard P1 meters) and ``homewizard_devices:`` (the rest of the
family: kWh meters, Energy Sockets, Watermeters, Plug-In Batteries)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from gridwatch.config_types import Duration, Strict, read_secret_file, relative_to_config

# product_type values of the devices gridwatch reads besides the P1 meter (PROTOCOLS-2.md §4.1).
ProductType = Literal[
    "HWE-KWH1", "HWE-KWH3", "SDM230-wifi", "SDM630-wifi", "HWE-SKT", "HWE-WTR", "HWE-BAT"
]


class HomeWizardConnection(Strict):
    """How to reach one HomeWizard device: the part every product shares."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    host: str = Field(min_length=1)
    api: Literal["auto", "v1", "v2"] = "auto"
    token: SecretStr | None = None
    token_file: Path | None = None
    # The TLS name is appliance/<type>/<serial>; read from the device when absent.
    serial: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{12}$")
    ca_file: Path | None = None
    http_port: int | None = Field(default=None, ge=1, le=65535)
    https_port: int | None = Field(default=None, ge=1, le=65535)
    interval: Duration = 10.0
    timeout: Duration = 5.0
    stale_after: Duration | None = None

    @model_validator(mode="after")
    def _check_token(self) -> HomeWizardConnection:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set either token or token_file, not both")
        if self.api == "v2" and self.token is None and self.token_file is None:
            raise ValueError(
                "api v2 needs a token: run `gridwatch pair-homewizard HOST` and set token_file"
            )
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


class MeterLimits(Strict):
    """What every grid meter has, however it is read: its name and the fuse it sits behind."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    fuse_amperes: float = Field(default=16.0, gt=0, le=400)
    imbalance_warning_amperes: float = Field(default=5.0, gt=0)
    imbalance_critical_amperes: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _check_levels(self) -> MeterLimits:
        if self.imbalance_critical_amperes < self.imbalance_warning_amperes:
            raise ValueError("imbalance_critical_amperes must be ≥ imbalance_warning_amperes")
        return self


class HomeWizardMeter(HomeWizardConnection, MeterLimits):
    """A HomeWizard P1 meter (``type: homewizard``): the grid connection."""

    type: Literal["homewizard"] = "homewizard"
    push: bool = True
    # The Plug-In Battery group the meter controls (GET /api/batteries, API v2 only).
    batteries: bool = False

    @model_validator(mode="after")
    def _batteries_need_v2(self) -> HomeWizardMeter:
        if self.batteries and not self.uses_v2:
            raise ValueError("batteries: true needs API v2 (a token from pair-homewizard)")
        return self


# dsmr-parser's telegram specifications, by the name the config uses (docs/homewizard.md).
DSMR_DIALECTS = {
    "dsmr5": "V5",
    "dsmr4": "V4",
    "dsmr3": "V3",
    "dsmr2.2": "V2_2",
    "belgium": "BELGIUM_FLUVIUS",
    "sweden": "SWEDEN",
    "sagemcom_t210_d_r": "SAGEMCOM_T210_D_R",
    "eon_hungary": "EON_HUNGARY",
    "ireland": "ISKRA_IE",
    "q3d": "Q3D",
}
Dialect = Literal[
    "dsmr5", "dsmr4", "dsmr3", "dsmr2.2", "belgium", "sweden", "sagemcom_t210_d_r",
    "eon_hungary", "ireland", "q3d",
]  # fmt: skip


class DsmrMeter(MeterLimits):
    """A smart meter's P1/HAN port read directly (``type: dsmr``): a USB cable on a serial port,
    or an ESP-based reader that serves the raw telegrams over TCP."""

    type: Literal["dsmr"]
    serial_port: Path | None = None  # e.g. /dev/ttyUSB0
    baudrate: int = Field(default=115200, ge=300, le=921600)  # DSMR 4/5: 115200; DSMR 2.2/3: 9600
    host: str | None = Field(default=None, min_length=1)  # a TCP reader (ser2net, ESPHome, …)
    port: int | None = Field(default=None, ge=1, le=65535)
    dialect: Dialect = "dsmr5"
    # Silence longer than this ends the connection (telegrams come every 1–10 s).
    timeout: Duration = 30.0
    stale_after: Duration = 60.0

    @model_validator(mode="after")
    def _check_transport(self) -> DsmrMeter:
        if (self.serial_port is None) == (self.host is None):
            raise ValueError("set either serial_port or host (with port)")
        if self.host is not None and self.port is None:
            raise ValueError("a TCP reader needs port")
        return self

    @property
    def staleness(self) -> float:
        return self.stale_after


def _default_type(value: object) -> object:
    # `type` may be left out: a meter is a HomeWizard one unless it says otherwise.
    if isinstance(value, dict) and "type" not in value:
        return {"type": "homewizard", **value}
    return value


GridMeter = Annotated[
    HomeWizardMeter | DsmrMeter, Field(discriminator="type"), BeforeValidator(_default_type)
]


class HomeWizardDevice(HomeWizardConnection):
    """A kWh meter, Energy Socket, Watermeter or Plug-In Battery (``homewizard_devices:``)."""

    # Detected from GET /api when absent; set it to refuse a device that turns out different.
    product_type: ProductType | None = None
    # What the meter measures, for dashboards and /status ("EV charger", "heat pump").
    label: str | None = Field(default=None, min_length=1, max_length=60)
    # kWh meters on API v2 also report the Plug-In Battery group (GET /api/batteries).
    batteries: bool = False


def _unique_names[T: HomeWizardConnection | MeterLimits](meters: list[T]) -> list[T]:
    seen: set[str] = set()
    for meter in meters:
        if meter.name in seen:
            raise ValueError(f"meter name {meter.name!r} is used twice")
        seen.add(meter.name)
    return meters


Meters = Annotated[list[GridMeter], AfterValidator(_unique_names)]
Devices = Annotated[list[HomeWizardDevice], AfterValidator(_unique_names)]
