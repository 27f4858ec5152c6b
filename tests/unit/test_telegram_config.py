"""`receiver.telegram`: token from env or file (never echoed), chats, language, key-path errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridwatch.config import ConfigError, load_config, parse_config
from gridwatch.receiver.telegram.config import TelegramConfig

TOKEN = "7000000001:AAFakeTokenForTestsOnly_0123456789ab"
OK = {"bot_token": TOKEN, "chat_ids": [1]}


def telegram(**section: Any) -> TelegramConfig:
    config = parse_config({"receiver": {"telegram": section}})
    assert config.receiver is not None and config.receiver.telegram is not None
    return config.receiver.telegram


def test_defaults_and_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    tg = telegram(bot_token="${TELEGRAM_BOT_TOKEN}", chat_ids=[42, -1001234567890])
    assert tg.resolved_token() == TOKEN
    assert tg.chat_ids == [42, -1001234567890]  # groups are negative
    assert (tg.language, tg.api_base_url, tg.bot_base_url) == (
        "en",
        "https://api.telegram.org",
        "https://api.telegram.org/bot",
    )
    assert (tg.commands, tg.silent_resolved, tg.timeout, tg.poll_timeout) == (True, True, 10, 30)
    assert TOKEN not in repr(tg) and TOKEN not in str(tg.model_dump())


def test_token_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "telegram").write_text(TOKEN + "\n")
    site = tmp_path / "site.yml"
    site.write_text(
        "receiver:\n  telegram:\n    bot_token_file: secrets/telegram\n    chat_ids: [42]\n"
        "    language: uk\n    api_base_url: http://127.0.0.1:8081/\n"
    )
    config = load_config(site)
    assert config.receiver is not None and config.receiver.telegram is not None
    tg = config.receiver.telegram
    assert tg.resolved_token() == TOKEN
    assert tg.language == "uk"
    assert tg.bot_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("section", "path", "words"),
    [
        ({"chat_ids": [42]}, "receiver.telegram", "exactly one of bot_token"),
        ({"bot_token": TOKEN, "bot_token_file": "/x", "chat_ids": [42]}, "", ""),
        ({"bot_token": TOKEN}, "receiver.telegram.chat_ids", "required"),
        ({"bot_token": TOKEN, "chat_ids": []}, "receiver.telegram.chat_ids", "at least 1"),
        ({"bot_token": TOKEN, "chat_ids": [0]}, "receiver.telegram.chat_ids", "not a chat id"),
        ({"bot_token": TOKEN, "chat_ids": [42, 42]}, "receiver.telegram.chat_ids", "once"),
        ({"bot_token": TOKEN, "chat_ids": ["@me"]}, "receiver.telegram.chat_ids[0]", "integer"),
        ({**OK, "language": "de"}, "receiver.telegram.language", "'en'"),
        ({**OK, "api_base_url": "api.telegram.org"},
         "receiver.telegram.api_base_url", "http"),
        ({**OK, "api_base_url": "http://127.0.0.1:1/bot"},
         "receiver.telegram.api_base_url", "without /bot"),
        ({**OK, "timezone": "Kyiv"}, "receiver.telegram.timezone", "unknown"),
        ({**OK, "timeout": "soon"}, "receiver.telegram.timeout", "duration"),
        ({**OK, "chat_id": 1}, "receiver.telegram.chat_id", "unknown key"),
    ],
)  # fmt: skip
def test_invalid_values_name_the_key(section: dict[str, Any], path: str, words: str) -> None:
    if "bot_token_file" in section:  # both set: a missing file is reported, or "exactly one"
        path, words = "receiver.telegram.bot_token_file", "cannot read"
    with pytest.raises(ConfigError) as info:
        parse_config({"receiver": {"telegram": section}}, "site.yml")
    problems = dict(info.value.problems)
    assert path in problems, problems
    assert words in problems[path].lower()


@pytest.mark.parametrize("bad", ["not-a-token", "123:short", TOKEN + " extra", TOKEN[:-1] + "!"])
def test_a_malformed_token_is_rejected_without_repeating_it(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"receiver": {"telegram": {"bot_token": bad, "chat_ids": [42]}}}, "site.yml")
    message = str(info.value)
    assert "receiver.telegram.bot_token" in message
    assert "does not look like a bot token" in message
    assert bad not in message


def test_a_malformed_token_file_is_rejected_without_repeating_it(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("12345:almost a token, with spaces")
    with pytest.raises(ConfigError) as info:
        parse_config(
            {"receiver": {"telegram": {"bot_token_file": str(secret), "chat_ids": [42]}}}, "s.yml"
        )
    assert "receiver.telegram.bot_token_file" in str(info.value)
    assert "almost a token" not in str(info.value)
