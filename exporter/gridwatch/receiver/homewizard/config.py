"""``receiver.homewizard`` — Energy Sockets the receiver may switch (API v1 ``/api/v1/state``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from gridwatch.config_types import Duration, Strict

NAME = r"^[A-Za-z0-9_.-]{1,40}$"


class SocketConfig(Strict):
    name: str = Field(pattern=NAME)
    host: str = Field(min_length=1)
    http_port: int | None = Field(default=None, ge=1, le=65535)
    group: str | None = Field(default=None, pattern=NAME)
    groups: list[str] = Field(default_factory=list)

    @property
    def all_groups(self) -> list[str]:
        return ([self.group] if self.group else []) + [g for g in self.groups if g != self.group]


class HomeWizardSwitches(Strict):
    """The Energy Sockets (HWE-SKT) the receiver switches, with the groups rules refer to."""

    sockets: list[SocketConfig] = Field(min_length=1)
    timeout: Duration = 5.0  # per request
    stagger: Duration = 3.0  # pause between sockets switched back on

    @model_validator(mode="after")
    def _check(self) -> HomeWizardSwitches:
        names = [s.name for s in self.sockets]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"socket names used twice: {', '.join(dupes)}")
        return self

    @property
    def groups(self) -> dict[str, list[str]]:
        """Group name → its sockets, in config order (the order they are switched in)."""
        found: dict[str, list[str]] = {}
        for socket in self.sockets:
            for group in socket.all_groups:
                found.setdefault(group, []).append(socket.name)
        return found
