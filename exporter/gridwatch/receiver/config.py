"""``receiver:`` — the webhook receiver's own settings; it reads the same file as the exporter."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from gridwatch.config_types import (
    Duration,
    Strict,
    non_empty_secret_file,
    read_secret_file,
    relative_to_config,
)
from gridwatch.receiver.homewizard.config import HomeWizardSwitches
from gridwatch.receiver.telegram.config import TelegramConfig
from gridwatch.receiver.tuya.config import ActionRule, TuyaConfig, validate_rules


class ReceiverConfig(Strict):
    # The webhook Alertmanager posts to. Loopback by default: on a native install Alertmanager runs
    # on the same host; in Docker set 0.0.0.0 (the token still guards it).
    listen_address: str = "127.0.0.1"
    port: int = Field(default=9865, ge=0, le=65535)  # 0 = any free port
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The bearer token Alertmanager sends (http_config.authorization.credentials_file).
    # Optional here so the exporter can share the file; `gridwatch receiver` refuses to start
    # without one.
    token: SecretStr | None = None
    token_file: Path | None = None
    # Alertmanager's payloads are a few kB per alert; anything near this is not from it.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    # Delivery retries: exponential backoff from retry_initial up to retry_max, given up (dead
    # letter) once a notification is older than retry_max_age.
    retry_initial: Duration = 2.0
    retry_max: Duration = 300.0
    retry_max_age: Duration = 86_400.0
    # How long a seen alert (and a finished job) is remembered. Each duplicate refreshes it, so it
    # only has to outlast Alertmanager's repeat_interval (default 4 h).
    dedup_retention: Duration = 172_800.0

    # Where the bot reads numbers (Prometheus HTTP API), active alerts (Alertmanager API v2) and
    # details such as outage windows and price slots (the exporter's JSON API).
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"
    exporter_url: str = "http://127.0.0.1:9864"

    telegram: TelegramConfig | None = None
    tuya: TuyaConfig | None = None
    homewizard: HomeWizardSwitches | None = None  # Energy Sockets, a switch backend next to Tuya
    actions: list[ActionRule] = Field(default_factory=list)

    _relative = field_validator("token_file")(relative_to_config)
    _readable = field_validator("token_file")(non_empty_secret_file)

    @field_validator("token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("token is empty")
        return value

    @model_validator(mode="after")
    def _check(self) -> ReceiverConfig:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set either token or token_file, not both")
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max must be ≥ retry_initial")
        sockets = {s.name: s.all_groups for s in self.homewizard.sockets} if self.homewizard else {}
        tuya = {p.name for p in self.tuya.plugs} if self.tuya else set()
        if both := sorted(tuya & sockets.keys()):
            # A switch is found by its name: one name must mean one switch.
            raise ValueError(f"names of both a Tuya plug and an Energy Socket: {', '.join(both)}")
        # rules may name only configured groups/plugs, of either backend
        validate_rules(self.tuya, self.actions, sockets)
        return self

    def resolved_token(self) -> str | None:
        if self.token is not None:
            return self.token.get_secret_value().strip()
        if self.token_file is not None:
            return read_secret_file(self.token_file)
        return None
