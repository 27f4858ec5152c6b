"""What the receiver works with: Alertmanager's v4 notification, and what actions report.

Parsing and validating the JSON payload into these lives in ``webhook.py``; everything after the
webhook (outbox, actions, Telegram) takes these dataclasses, never raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AlertStatus = Literal["firing", "resolved"]
PlugOutcome = Literal["ok", "offline", "error"]


@dataclass(frozen=True, slots=True)
class Alert:
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None while firing (Alertmanager sends 0001-01-01T00:00:00Z)
    fingerprint: str
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def dedup_key(self) -> str:
        """fingerprint + status + startsAt: Alertmanager re-sends the same alert many times."""
        return f"{self.fingerprint}:{self.status}:{self.starts_at.isoformat()}"


@dataclass(frozen=True, slots=True)
class Notification:
    receiver: str
    status: AlertStatus
    alerts: tuple[Alert, ...]
    group_labels: dict[str, str] = field(default_factory=dict)
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    group_key: str = ""
    truncated_alerts: int = 0


@dataclass(frozen=True, slots=True)
class PlugResult:
    """The outcome of switching one plug, reported in the Telegram message."""

    plug: str
    on: bool
    outcome: PlugOutcome
    detail: str = ""  # human text for offline/error, never a secret
    was_on: bool | None = None  # before an off switch, if the integration could tell
    kept_off: bool = False  # a restore left it off: it was off before the load was shed


@dataclass(frozen=True, slots=True)
class PlugState:
    """What /plugs shows: None = could not be read."""

    plug: str
    group: str
    on: bool | None
    outcome: PlugOutcome
    detail: str = ""
