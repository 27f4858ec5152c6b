"""``receiver.tuya`` and ``receiver.actions``: plugs, groups, cloud access, load-shedding rules.

Secrets (local keys, the cloud access secret) are ``SecretStr`` or read from ``*_file`` when used,
so they never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from gridwatch.config_types import (
    Duration,
    Strict,
    non_empty_secret_file,
    read_secret_file,
    relative_to_config,
)

_NAME = r"^[A-Za-z0-9_.-]{1,40}$"

# Tuya data centres → OpenAPI hosts (the same table tinytuya uses; "az"/"ue"/"we" are its aliases).
REGION_HOSTS = {
    "cn": "openapi.tuyacn.com",
    "us": "openapi.tuyaus.com",
    "az": "openapi.tuyaus.com",
    "us-e": "openapi-ueaz.tuyaus.com",
    "ue": "openapi-ueaz.tuyaus.com",
    "eu": "openapi.tuyaeu.com",
    "eu-w": "openapi-weaz.tuyaeu.com",
    "we": "openapi-weaz.tuyaeu.com",
    "in": "openapi.tuyain.com",
    "sg": "openapi-sg.iotbing.com",
}
Region = Literal["cn", "us", "az", "us-e", "ue", "eu", "eu-w", "we", "in", "sg"]


def _version(value: object) -> object:
    # YAML reads `version: 3.3` as a float; the protocol versions are names, not numbers.
    if isinstance(value, float):
        return f"{value:.1f}"
    return value


def _switch_word(value: object) -> object:
    # YAML 1.1 (PyYAML) reads unquoted on/off as booleans.
    if value is True:
        return "on"
    if value is False:
        return "off"
    return value


class _Plug(Strict):
    name: str = Field(pattern=_NAME)
    group: str | None = Field(default=None, pattern=_NAME)  # one group, or
    groups: list[Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=list)  # several
    device_id: str = Field(pattern=r"^[A-Za-z0-9]{6,64}$")

    @model_validator(mode="after")
    def _one_group_key(self) -> _Plug:
        if self.group is not None and self.groups:
            raise ValueError("set either group or groups, not both")
        return self

    @property
    def all_groups(self) -> list[str]:
        return [self.group] if self.group is not None else list(self.groups)


class LocalPlug(_Plug):
    """A plug on the LAN, switched with the Tuya local protocol (tinytuya)."""

    backend: Literal["local"]
    address: str = Field(min_length=1)
    local_key: SecretStr | None = None
    local_key_file: Path | None = None
    version: Annotated[Literal["3.1", "3.2", "3.3", "3.4", "3.5"], BeforeValidator(_version)] = (
        "3.3"
    )
    switch_dp: int = Field(default=1, ge=1, le=255)
    port: int = Field(default=6668, ge=1, le=65535)

    _relative = field_validator("local_key_file")(relative_to_config)

    @field_validator("address")
    @classmethod
    def _real_address(cls, value: str) -> str:
        # tinytuya turns an empty/"Auto"/0.0.0.0 address into UDP broadcast discovery, which can
        # take seconds and finds the wrong device on a busy LAN: the address must be given.
        if value.strip().lower() in {"auto", "0.0.0.0", "::"}:
            raise ValueError("give the plug's own address (no broadcast discovery)")
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return value  # a host name
        if ip.is_unspecified or ip.is_multicast or str(ip) == "255.255.255.255":
            raise ValueError("give the plug's own address, not a broadcast/multicast one")
        return value

    @field_validator("local_key")
    @classmethod
    def _key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_key(value.get_secret_value(), "local_key")
        return value

    @field_validator("local_key_file")
    @classmethod
    def _key_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            _check_key(read_secret_file(value), f"the key in {value}")
        return value

    @model_validator(mode="after")
    def _one_key(self) -> LocalPlug:
        if (self.local_key is None) == (self.local_key_file is None):
            raise ValueError("set exactly one of local_key or local_key_file")
        return self

    def resolved_key(self) -> str:
        if self.local_key is not None:
            return self.local_key.get_secret_value()
        assert self.local_key_file is not None  # checked by _one_key
        return read_secret_file(self.local_key_file)


def _check_key(key: str, what: str) -> None:
    # An AES-128 key: tinytuya answers any other length with Err 914 at the first call.
    if len(key.encode("utf-8")) != 16:
        raise ValueError(f"{what} must be 16 characters (the device's local key), got {len(key)}")


class CloudPlug(_Plug):
    """A plug switched through the Tuya Cloud OpenAPI."""

    backend: Literal["cloud"]
    switch_code: str = Field(default="switch_1", pattern=r"^[A-Za-z0-9_]{1,40}$")


Plug = Annotated[LocalPlug | CloudPlug, Field(discriminator="backend")]


class TuyaCloudConfig(Strict):
    """A cloud project on the Tuya IoT platform (``receiver.tuya.cloud``)."""

    access_id: str = Field(min_length=1)
    access_secret: SecretStr | None = None
    access_secret_file: Path | None = None
    region: Region = "eu"
    base_url: str | None = None  # overrides region, e.g. a test server on loopback
    user_id: str | None = None  # the app account's uid: lets /plugs read all plugs in one call
    timeout: Duration = 5.0  # per HTTP request

    _relative = field_validator("access_secret_file")(relative_to_config)
    _readable = field_validator("access_secret_file")(non_empty_secret_file)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError("base_url must be http(s)://host[:port] with no path")
        return value.rstrip("/") if value is not None else None

    @model_validator(mode="after")
    def _one_secret(self) -> TuyaCloudConfig:
        if (self.access_secret is None) == (self.access_secret_file is None):
            raise ValueError("set exactly one of access_secret or access_secret_file")
        return self

    @property
    def url(self) -> str:
        return self.base_url or f"https://{REGION_HOSTS[self.region]}"

    def resolved_secret(self) -> str:
        if self.access_secret is not None:
            return self.access_secret.get_secret_value()
        assert self.access_secret_file is not None  # checked by _one_secret
        return read_secret_file(self.access_secret_file)


class TuyaConfig(Strict):
    plugs: list[Plug] = Field(min_length=1)
    cloud: TuyaCloudConfig | None = None
    # Local protocol: tinytuya's own defaults (5 s, 5 tries, 5 s apart) make a refused
    # connection take 20 s; a receiver must report quickly and move on to the next plug. But
    # tinytuya uses this one value for connecting and for each reply, and busy plugs take
    # seconds to answer: too short, and a plug that did switch is reported as failed.
    connect_timeout: Duration = 5.0  # per socket connect/receive
    connect_retries: int = Field(default=2, ge=1, le=5)
    retry_delay: float = Field(default=0.5, ge=0, le=5)  # seconds between connection attempts
    timeout: Duration = 20.0  # the whole of one switch or status read, local or cloud
    stagger: Duration = 3.0  # pause between plugs switched back on

    @model_validator(mode="after")
    def _check(self) -> TuyaConfig:
        names = [plug.name for plug in self.plugs]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"plug name {twice[0]!r} is used twice")
        if self.cloud is None and (cloud := [p.name for p in self.plugs if p.backend == "cloud"]):
            raise ValueError(f"plug {cloud[0]!r} uses backend cloud: add receiver.tuya.cloud")
        return self

    @property
    def groups(self) -> dict[str, list[str]]:
        """Group name → its plugs, in config order (the order they are switched in)."""
        found: dict[str, list[str]] = {}
        for plug in self.plugs:
            for group in plug.all_groups:
                found.setdefault(group, []).append(plug.name)
        return found


SwitchTo = Annotated[Literal["off", "on"], BeforeValidator(_switch_word)]


class ActionRule(Strict):
    """On an alert whose labels match, switch groups/plugs; on its resolution, switch them back.

    ``match`` compares label values exactly, ``match_re`` with a regex that must match the whole
    value (as in Alertmanager). Every matcher must hold.
    """

    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    plugs: list[str] = Field(default_factory=list)
    firing: SwitchTo | None = "off"
    # restore = the opposite of `firing` (plugs turned off at grid loss come back on)
    resolved: Annotated[Literal["restore", "off", "on"], BeforeValidator(_switch_word)] | None = (
        "restore"
    )

    @field_validator("match_re")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{label}: invalid regex {pattern!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> ActionRule:
        if not self.match and not self.match_re:
            # A rule without matchers would shed load on every alert, a disk-full warning too.
            raise ValueError("give match or match_re (e.g. match: {alertname: GridDown})")
        if not self.groups and not self.plugs:
            raise ValueError("give groups or plugs to switch")
        if self.firing is None and self.resolved in (None, "restore"):
            raise ValueError("resolved: restore needs firing: off or on")
        return self

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match.items()):
            return False
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.match_re.items())

    def switch_to(self, status: Literal["firing", "resolved"]) -> bool | None:
        """True = on, False = off, None = nothing to do for this status."""
        if status == "firing":
            return None if self.firing is None else self.firing == "on"
        if self.resolved == "restore":
            return self.firing != "on"
        return None if self.resolved is None else self.resolved == "on"


def check_rules(
    tuya: TuyaConfig | None,
    rules: list[ActionRule],
    other_plugs: Mapping[str, list[str]] | None = None,
) -> list[tuple[str, str]]:
    """(key path, problem) for every rule naming a group or plug that is not configured.
    ``other_plugs`` are another backend's switches (name → groups), e.g. HomeWizard sockets."""
    problems: list[tuple[str, str]] = []
    groups = dict(tuya.groups) if tuya else {}
    plugs = {p.name for p in tuya.plugs} if tuya else set()
    for name, its_groups in (other_plugs or {}).items():
        plugs.add(name)
        for group in its_groups:
            groups.setdefault(group, []).append(name)
    for i, rule in enumerate(rules):
        if not plugs:
            problems.append((f"actions[{i}]", "actions need receiver.tuya with plugs"))
            continue
        for group in rule.groups:
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none"
                problems.append((f"actions[{i}].groups", f"unknown group {group!r} ({known})"))
        for plug in rule.plugs:
            if plug not in plugs:
                problems.append((f"actions[{i}].plugs", f"unknown plug {plug!r}"))
    return problems


def validate_rules(
    tuya: TuyaConfig | None,
    rules: list[ActionRule],
    other_plugs: Mapping[str, list[str]] | None = None,
) -> None:
    """For ReceiverConfig's validator: raises ValueError naming the first bad reference."""
    if problems := check_rules(tuya, rules, other_plugs):
        path, message = problems[0]
        raise ValueError(f"{path}: {message}")
