"""Configuration: one YAML file, validated with pydantic.

Unknown keys are errors, durations are written like ``10s`` or ``5m``, and secrets come from
``${ENV}`` references or ``*_file`` keys so they never sit in the YAML itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from gridwatch.config_types import Duration, Strict, read_secret_file, relative_to_config
from gridwatch.config_yaml import YamlError, duplicate_names, load_yaml
from gridwatch.core.thresholds_config import AlertsConfig
from gridwatch.energy.config import TariffConfig
from gridwatch.receiver.config import ReceiverConfig
from gridwatch.sources.bms.config import BatteriesConfig
from gridwatch.sources.inverter.config import GridConfig, InverterConfig
from gridwatch.sources.outages.config import OutagesConfig
from gridwatch.sources.prices.config import PricesConfig

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """An invalid configuration: names the file, the key path and what is wrong."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: invalid configuration"]
        lines += [f"  {path or '(top level)'}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class SiteConfig(Strict):
    name: str = "home"
    timezone: str = "Europe/Stockholm"
    data_dir: Path = Path("data")  # the SQLite state file lives here; relative to the config

    _relative = field_validator("data_dir")(relative_to_config)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Kyiv)"
            ) from None
        return value


class ExporterConfig(Strict):
    listen_address: str = "0.0.0.0"
    port: int = Field(default=9864, ge=0, le=65535)  # 0 = any free port
    log_level: Literal["debug", "info", "warning", "error"] = "info"


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


class Config(Strict):
    site: SiteConfig = SiteConfig()
    exporter: ExporterConfig = ExporterConfig()
    meters: list[HomeWizardMeter] = Field(default_factory=list)
    prices: PricesConfig | None = None
    tariff: TariffConfig | None = None
    inverters: list[InverterConfig] = Field(default_factory=list)
    grid: GridConfig = GridConfig()
    batteries: BatteriesConfig | None = None
    outages: OutagesConfig | None = None
    alerts: AlertsConfig = AlertsConfig()  # thresholds the alert rules read
    receiver: ReceiverConfig | None = None  # read by `gridwatch receiver`, ignored by the exporter

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for meter in self.meters:
            if meter.name in seen:
                raise ValueError(f"meter name {meter.name!r} is used twice")
            seen.add(meter.name)
        return self


@dataclass(frozen=True, slots=True)
class _EnvMissing:
    path: str
    name: str


def _expand_env(node: Any, path: str, missing: list[_EnvMissing]) -> Any:
    """Replace ``${VAR}`` in every string value; collect references to unset variables."""
    if isinstance(node, dict):
        return {k: _expand_env(v, _join(path, str(k)), missing) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{path}[{i}]", missing) for i, v in enumerate(node)]
    if isinstance(node, str):

        def sub(match: re.Match[str]) -> str:
            value = os.environ.get(match.group(1))
            if value is None:
                missing.append(_EnvMissing(path, match.group(1)))
                return ""
            return value

        return _ENV_REF.sub(sub, node)
    return node


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"function-after", "function-before"} or "[" in part:
            continue  # pydantic's internal validator steps, not keys the user wrote
        else:
            path = _join(path, part)
    return path


def _message(error: Any) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return msg.removeprefix("Value error, ")


def parse_config(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate parsed YAML; relative file paths in it are taken relative to ``base_dir``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [("", "the file must contain a mapping of keys")])
    missing: list[_EnvMissing] = []
    data = _expand_env(data, "", missing)
    if missing:
        raise ConfigError(
            source, [(m.path, f"environment variable {m.name} is not set") for m in missing]
        )
    if duplicates := duplicate_names(data):
        raise ConfigError(source, duplicates)
    try:
        return Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(
            source, [(_loc_to_path(tuple(e["loc"])), _message(e)) for e in exc.errors()]
        ) from None


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), [("", f"cannot read file: {exc.strerror}")]) from None
    try:
        data = load_yaml(raw)
    except YamlError as exc:
        raise ConfigError(str(path), [(exc.path, exc.message)]) from None
    return parse_config(data, str(path), path.parent)
