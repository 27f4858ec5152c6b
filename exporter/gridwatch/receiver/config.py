"""``receiver:`` — the webhook receiver's own settings; it reads the same file as the exporter."""

from __future__ import annotations

from pydantic import Field

from gridwatch.config_types import Strict
from gridwatch.receiver.telegram.config import TelegramConfig
from gridwatch.receiver.tuya.config import ActionRule, TuyaConfig


class ReceiverConfig(Strict):
    """(The webhook/outbox part is filled in by the receiver-core work.)"""

    # Where the bot reads numbers (Prometheus HTTP API), active alerts (Alertmanager API v2) and
    # details such as outage windows and price slots (the exporter's JSON API).
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    exporter_url: str = "http://127.0.0.1:9864"

    telegram: TelegramConfig | None = None
    tuya: TuyaConfig | None = None
    actions: list[ActionRule] = Field(default_factory=list)
