"""``receiver.telegram``: bot token, allowed chats, language, where the Bot API is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from gridwatch.config_types import Duration, Strict, read_secret_file, relative_to_config

Language = Literal["en", "uk", "sv"]
TELEGRAM_API = "https://api.telegram.org"
# What BotFather hands out: the bot's numeric id, a colon, then 35 URL-safe characters.
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


class TelegramConfig(Strict):
    """The Telegram notifier and bot. The token is a secret: from ``${ENV}`` or a file."""

    bot_token: SecretStr | None = None
    bot_token_file: Path | None = None
    # Who gets notifications and whose commands are answered; group ids are negative.
    chat_ids: list[int] = Field(min_length=1)
    language: Language = "en"
    # Times in messages; default: the zone the exporter's JSON API reports, else UTC.
    timezone: str | None = None
    api_base_url: str = TELEGRAM_API  # tests and self-hosted Bot API servers point elsewhere
    timeout: Duration = 10.0  # each Bot API request (connect, write and read separately)
    poll_timeout: Duration = 30.0  # long poll of getUpdates: how long Telegram may hold it
    query_timeout: Duration = 5.0  # the bot's reads of Prometheus, Alertmanager and the exporter
    commands: bool = True  # answer /status etc.; false = notifications only
    chatid: bool = True  # answer /chatid in any chat with its id (nothing else); rate-limited
    silent_resolved: bool = True  # resolved notifications arrive without a sound
    show_descriptions: bool = True  # add each alert's description annotation (its numbers)

    _relative = field_validator("bot_token_file")(relative_to_config)

    @field_validator("bot_token_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            _check_token(read_secret_file(value), f"the token in {value}")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_token(value.get_secret_value(), "bot_token")
        return value

    @field_validator("chat_ids")
    @classmethod
    def _chats(cls, value: list[int]) -> list[int]:
        if 0 in value:
            raise ValueError("0 is not a chat id (send /start to the bot to find yours)")
        if len(set(value)) != len(value):
            raise ValueError("each chat id may be listed once")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        value = value.rstrip("/")
        if value.endswith("/bot"):
            raise ValueError("give the server's base URL without /bot (it is added)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Kyiv)") from None
        return value

    @model_validator(mode="after")
    def _one_token(self) -> TelegramConfig:
        if (self.bot_token is None) == (self.bot_token_file is None):
            raise ValueError(
                "set exactly one of bot_token (e.g. ${TELEGRAM_BOT_TOKEN}) or bot_token_file"
            )
        return self

    def resolved_token(self) -> str:
        if self.bot_token is not None:
            return self.bot_token.get_secret_value()
        assert self.bot_token_file is not None  # the model validator guarantees one of them
        return read_secret_file(self.bot_token_file)

    @property
    def bot_base_url(self) -> str:
        """python-telegram-bot appends the token to this: ``…/bot<token>/<method>``."""
        return f"{self.api_base_url}/bot"


def _check_token(token: str, where: str) -> None:
    # The message never repeats the value: a nearly right token is still a secret.
    if not _TOKEN.match(token):
        raise ValueError(
            f"{where} does not look like a bot token from BotFather (digits, ':', then letters)"
        )
