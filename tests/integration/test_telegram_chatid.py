"""``/chatid`` against the fake Bot API: any chat gets its own id and nothing else, rate-limited;
every other command from a chat not in ``chat_ids`` still gets no answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.telegram.bot import TelegramBot
from gridwatch.receiver.telegram.chatid import ChatIdLimiter
from gridwatch.sim.telegram.bot_api import FakeBotApi

pytestmark = pytest.mark.integration
HOME, STRANGER, OTHER, THIRD = 42, 999, -1005550001, 777
NOWHERE = "http://127.0.0.1:9"  # /chatid reads nothing: no peer needed


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def start_bot(api: FakeBotApi, **telegram: object) -> TelegramBot:
    config = parse_config(
        {
            "receiver": {
                "prometheus_url": NOWHERE,
                "exporter_url": NOWHERE,
                "alertmanager_url": NOWHERE,
                "telegram": {
                    "bot_token": api.token,
                    "chat_ids": [HOME],
                    "api_base_url": api.url,
                    "poll_timeout": "1s",
                    **telegram,
                },
            }
        }
    )
    assert config.receiver is not None
    bot = TelegramBot(config.receiver, None)
    await bot.start()
    await api.wait_for(bot.polling.is_set, "the bot to poll")
    return bot


async def test_chatid_answers_any_chat_with_its_id_only(api: FakeBotApi) -> None:
    bot = await start_bot(api)
    try:
        api.user_message(STRANGER, "/status")  # not allowed: silence
        api.user_message(STRANGER, "/chatid")
        api.user_message(STRANGER, "/chatid")  # within the per-chat window: silence
        api.user_message(STRANGER, "/help")
        api.user_message(OTHER, "/chatid@gridwatch_test_bot")
        api.user_message(HOME, "/chatid")
        await api.wait_for(lambda: HOME in api.chats(), "the answer to the allowed chat")
        assert api.texts(STRANGER) == [f"chat_id: {STRANGER}"]
        assert api.texts(OTHER) == [f"chat_id: {OTHER}"]
        assert api.texts(HOME) == [f"chat_id: {HOME}"]
        assert [m.parse_mode for m in api.sent] == [None, None, None]  # plain text, no markup
    finally:
        await bot.stop()


async def test_chatid_can_be_switched_off(api: FakeBotApi) -> None:
    bot = await start_bot(api, chatid=False)
    try:
        api.user_message(STRANGER, "/chatid")
        api.user_message(HOME, "/chatid")  # an allowed chat: an unknown command now
        await api.wait_for(lambda: HOME in api.chats(), "the allowed chat's answer")
        assert STRANGER not in api.chats()
        assert api.texts(HOME) != [f"chat_id: {HOME}"]
    finally:
        await bot.stop()


def test_limiter_per_chat_and_overall() -> None:
    now = [0.0]
    limiter = ChatIdLimiter(clock=lambda: now[0], per_chat_seconds=30, per_minute=2)
    assert limiter.allow(STRANGER)
    assert not limiter.allow(STRANGER)  # same chat, inside 30 s
    assert limiter.allow(OTHER)
    assert not limiter.allow(THIRD)  # two answers this minute already
    now[0] = 61.0
    assert limiter.allow(THIRD) and limiter.allow(STRANGER)
