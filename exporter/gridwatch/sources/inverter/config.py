"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gridwatch.config_types import Duration, Strict, relative_to_config
from gridwatch.sources.inverter.regmap import MapError, load_file, load_shipped

Transport = Literal["serial", "tcp", "rtu_over_tcp", "eybond", "hid", "solarman"]
Protocol = Literal["modbus", "pi30", "pi18", "pi17"]
# tcp: for the ASCII protocols a transparent RS232-to-TCP bridge (EW11, USR-TCP232, ser2net)
ASCII_TRANSPORTS = {"serial", "hid", "eybond", "tcp"}


class InverterConfig(Strict):
    """One inverter (``inverters:`` list)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    transport: Transport
    protocol: Protocol = "modbus"  # modbus (register maps) | pi30 | pi18 | pi17 (Voltronic)
    model: str = "smg_ii"  # a shipped map in sources/inverter/models/
    model_file: Path | None = None  # your own map (YAML); replaces model
    unit: int = Field(default=1, ge=0, le=255)  # Modbus device address (SMG-II: 1)
    function: Literal[3, 4] | None = None  # read function; default: the map's
    # serial
    device: str | None = None  # /dev/ttyUSB0, /dev/serial/by-id/…
    baudrate: int | None = Field(default=None, gt=0)  # default: 9600 Modbus, 2400 ASCII
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    # tcp, rtu_over_tcp: the gateway (ASCII protocols: the RS232 bridge); eybond: the dongle
    host: str | None = Field(default=None, min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # tcp: 502 (Modbus); ASCII: required
    # eybond
    dongle_port: int = Field(default=58899, ge=1, le=65535)  # UDP wake-up port of the dongle
    listen_host: str = "0.0.0.0"
    listen_port: int = Field(default=8899, ge=0, le=65535)  # the dongle connects back here
    advertise_host: str | None = None  # address the dongle connects to; default: auto
    connect_timeout: Duration = 10.0
    # solarman: the Wi-Fi logger stick's own serial number (on its label, in its web page and
    # the Solarman app; not the inverter's), sent in every frame. port defaults to 8899.
    logger_serial: int | None = Field(default=None, ge=1, le=0xFFFFFFFF)
    # polling
    interval: Duration = 10.0
    # Registers the map marks ``slow: true`` (settings, counters, temperatures), and the ASCII
    # protocols' slow commands (identity, settings, energy totals), are read this often.
    slow_interval: Duration = 60.0
    timeout: Duration = 5.0  # per request
    retries: int = Field(default=1, ge=0, le=5)  # serial/TCP only
    stale_after: Duration | None = None
    battery_capacity_wh: float | None = Field(default=None, gt=0)  # for runtime estimates

    _relative = field_validator("model_file")(relative_to_config)

    @field_validator("model")
    @classmethod
    def _shipped(cls, value: str) -> str:
        try:
            load_shipped(value)
        except MapError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("model_file")
    @classmethod
    def _loadable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_file(value)
            except MapError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _transport_keys(self) -> InverterConfig:
        if self.protocol != "modbus":
            if self.transport not in ASCII_TRANSPORTS:
                raise ValueError(
                    f"protocol {self.protocol} runs over transport serial, hid, tcp (an RS232 "
                    f"bridge) or eybond, not {self.transport}"
                )
            if self.transport == "tcp" and self.port is None:
                raise ValueError(
                    "transport tcp with an ASCII protocol needs port: the bridge's TCP server "
                    "port (EW11 and USR-TCP232 default to 8899, ser2net whatever you set)"
                )
            if "model" in self.model_fields_set or self.model_file is not None:
                raise ValueError("model and model_file are for protocol modbus (register maps)")
        elif self.transport == "hid":
            raise ValueError(
                "transport hid (USB) carries the ASCII protocols: set protocol: pi30, pi18 or pi17"
            )
        if "model" in self.model_fields_set and self.model_file is not None:
            raise ValueError("set either model or model_file, not both")
        if self.transport in {"serial", "hid"}:
            if not self.device:
                example = "/dev/hidraw0" if self.transport == "hid" else "/dev/ttyUSB0"
                raise ValueError(f"transport {self.transport} needs device (e.g. {example})")
            if self.host is not None:
                raise ValueError(f"host is for tcp, rtu_over_tcp and eybond, not {self.transport}")
        else:
            if not self.host:
                what = "the dongle's address" if self.transport == "eybond" else "the gateway"
                raise ValueError(f"transport {self.transport} needs host ({what})")
            if self.device is not None:
                raise ValueError("device is for transports serial and hid only")
        if (self.transport == "solarman") != (self.logger_serial is not None):
            raise ValueError(
                "transport solarman needs logger_serial (the stick's serial number, on its label)"
                if self.transport == "solarman"
                else "logger_serial is for transport solarman only"
            )
        if self.transport == "eybond" and self.port is not None:
            raise ValueError("eybond uses dongle_port (UDP wake-up) and listen_port, not port")
        return self

    @property
    def line_baudrate(self) -> int:
        """RS232 speed: Voltronic units talk at 2400 baud, the SMG-II's Modbus port at 9600."""
        if self.baudrate is not None:
            return self.baudrate
        return 9600 if self.protocol == "modbus" else 2400

    @property
    def staleness(self) -> float:
        return self.stale_after if self.stale_after is not None else 3 * self.interval


class GridConfig(Strict):
    """How gridwatch decides that the grid is up (``grid:``)."""

    # Mains counts as present at ≥ min_voltage_volts and a frequency inside the window. 170 V is
    # the lower end of the SMG-II's narrow ("UPS") input window; 45–65 Hz covers 50 and 60 Hz grids
    # and excludes the 0 V / 0 Hz an inverter reads without mains.
    min_voltage_volts: float = Field(default=170.0, gt=0)
    min_frequency_hertz: float = Field(default=45.0, ge=0)
    max_frequency_hertz: float = Field(default=65.0, gt=0)
    consecutive_polls: int = Field(default=3, ge=1, le=100)  # debounce, per signal
    inverters: list[str] | None = None  # which inverters vote; default: all
    p1_meters: list[str] = Field(default_factory=list)  # HomeWizard meters as a second signal
    combine: Literal["any", "all"] = "any"  # grid up when any / all known signals say so
    persist: bool = True  # keep the last change time in the state file across restarts

    @model_validator(mode="after")
    def _window(self) -> GridConfig:
        if self.max_frequency_hertz <= self.min_frequency_hertz:
            raise ValueError("max_frequency_hertz must be above min_frequency_hertz")
        return self
