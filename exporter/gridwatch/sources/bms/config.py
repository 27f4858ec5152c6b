"""Configuration of this area; the root model in gridwatch.config includes it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from gridwatch.config_types import Duration, Strict, relative_to_config

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
ADDRESS_PATTERN = r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$"


def known_bms_type(value: str) -> str:
    """An aiobmsble plugin module name, e.g. ``jikong_bms`` (what `scan-bms` prints)."""
    if not value.endswith("_bms") or importlib.util.find_spec(f"aiobmsble.bms.{value}") is None:
        raise ValueError(
            f"unknown BMS type {value!r}: use an aiobmsble module name such as jikong_bms "
            "(`gridwatch scan-bms` shows the type of every pack it finds)"
        )
    return value


class BatteryDevice(Strict):
    """One pack: where it is and what speaks for it."""

    name: str = Field(pattern=NAME_PATTERN)  # the `battery` label
    address: str = Field(pattern=ADDRESS_PATTERN)
    type: str = "jikong_bms"
    enabled: bool = True  # false keeps a scanned pack listed (so rescans skip it) but unpolled

    _type = field_validator("type")(known_bms_type)

    @field_validator("address")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class BatteriesConfig(Strict):
    """Bluetooth batteries (`batteries:`)."""

    devices: list[BatteryDevice] = Field(default_factory=list)
    # YAML list of packs written by `gridwatch scan-bms --save` and by rescans; relative to
    # the config file. Packs listed in `devices` win over entries with the same address.
    devices_file: Path | None = None
    interval: Duration = 30.0  # one round over all packs, one after another
    timeout: Duration = 30.0  # per pack and poll: scan for it, connect, read
    scan_timeout: Duration = 10.0  # how long to look for a pack's advertisement before connecting
    keep_alive: bool = True  # stay connected between polls (JK allows one connection at a time)
    rescan: bool = True  # look for new packs and add them to devices_file
    rescan_interval: Duration = 3600.0
    scan_duration: Duration = 10.0  # length of one discovery scan (rescans and scan-bms)
    adapter: str | None = Field(default=None, pattern=r"^hci[0-9]{1,2}$")
    stale_after: Duration | None = None
    cell_delta_warning_volts: float = Field(default=0.05, gt=0, le=1)
    cell_delta_critical_volts: float = Field(default=0.1, gt=0, le=1)

    _relative = field_validator("devices_file")(relative_to_config)

    @model_validator(mode="after")
    def _check(self) -> BatteriesConfig:
        names: set[str] = set()
        addresses: set[str] = set()
        for device in self.devices:
            if device.name in names:
                raise ValueError(f"battery name {device.name!r} is used twice")
            if device.address in addresses:
                raise ValueError(f"battery address {device.address} is listed twice")
            names.add(device.name)
            addresses.add(device.address)
        if self.scan_timeout >= self.timeout:
            raise ValueError("scan_timeout must be shorter than timeout (it is part of each poll)")
        if self.cell_delta_critical_volts < self.cell_delta_warning_volts:
            raise ValueError("cell_delta_critical_volts must be ≥ cell_delta_warning_volts")
        if self.devices_file is not None:
            # A hand-edited devices file is configuration too: a typo fails at start, not later.
            # Imported here because the devices file module builds on this one.
            from gridwatch.sources.bms.devices_file import (  # noqa: PLC0415
                DevicesFileError,
                load_devices,
            )

            try:
                load_devices(self.devices_file)
            except DevicesFileError as exc:
                raise ValueError(str(exc)) from None
        return self

    def staleness(self, packs: int) -> float:
        """Readings older than this are dropped: three rounds, each up to one timeout per pack."""
        if self.stale_after is not None:
            return self.stale_after
        return 3 * max(self.interval, self.timeout * max(packs, 1))
