"""Configuration: one YAML file, validated with pydantic.

Unknown keys are errors, durations are written like ``10s`` or ``5m``, and secrets come from
``${ENV}`` references or ``*_file`` keys so they never sit in the YAML itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, create_model, field_validator

from gridwatch.areas import AREAS
from gridwatch.config_types import Duration, Strict, relative_to_config
from gridwatch.config_yaml import YamlError, duplicate_names, load_yaml, names_across
from gridwatch.core.area import Area
from gridwatch.core.thresholds_config import AlertsConfig
from gridwatch.energy.automation_config import AutomationConfig
from gridwatch.receiver.config import ReceiverConfig

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
    # Where the live page (/live) links for history; default: Grafana on the page's own host.
    grafana_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    live_min_interval: Duration = 0.5  # the live page gets at most one update per this


class SharedSections(Strict):
    """The sections every process reads; each area adds its own (``areas.py``)."""

    site: SiteConfig = SiteConfig()
    exporter: ExporterConfig = ExporterConfig()
    alerts: AlertsConfig = AlertsConfig()  # thresholds the alert rules read
    receiver: ReceiverConfig | None = None  # read by `gridwatch receiver`, ignored by the exporter
    # Planned by the exporter (prices, peaks), switched by the receiver: docs/automation.md
    automation: AutomationConfig | None = None


def config_model(areas: Iterable[Area]) -> type[SharedSections]:
    """The root model: the shared sections plus every section the areas declare."""
    fields: dict[str, Any] = {}
    for area in areas:
        for section in area.sections:
            if section.key in fields or section.key in SharedSections.model_fields:
                raise ValueError(f"config section {section.key!r} is declared twice")
            fields[section.key] = (section.model, Field(default_factory=section.default))
    return create_model("Config", __base__=SharedSections, **fields)


if TYPE_CHECKING:
    # Area code reads its sections through their ``Section``, typed; the rest is shared.
    Config = SharedSections
else:
    Config = config_model(AREAS)


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


# pydantic's internal validator steps: they appear in an error's location but are not keys.
_STEPS = frozenset({"function-after", "function-before"})
# Tags of discriminated unions in lists (meters[].type), which follow the item's index.
_LIST_TAGS = frozenset({"homewizard", "dsmr"})


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    after_index = False
    for part in loc:
        tag = after_index and part in _LIST_TAGS
        after_index = isinstance(part, int)
        if isinstance(part, int):
            path += f"[{part}]"
        elif tag or part in _STEPS or "[" in part:
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
    duplicates = duplicate_names(data)
    for area in AREAS:
        duplicates += names_across(data, area.shared_names)
    if duplicates:
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
