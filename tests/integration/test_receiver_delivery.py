"""The receiver with the real TelegramNotifier against the fake Bot API on loopback:
Telegram's 429 retry_after honoured, Telegram down then up delivered exactly once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.app import Receiver, open_integrations
from gridwatch.sim.telegram.bot_api import FakeBotApi
from tests.receiver_fakes import TOKEN, RecordingPlugs, griddown

pytestmark = pytest.mark.integration

CHAT = 42
FAMILY = -100200300  # a group chat


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


class Running:
    def __init__(self, api: FakeBotApi, data_dir: Path, chats: tuple[int, ...] = (CHAT,)) -> None:
        self.config = parse_config(
            {
                "site": {"data_dir": str(data_dir), "timezone": "Europe/Kyiv"},
                "receiver": {
                    "listen_address": "127.0.0.1",
                    "port": 0,
                    "token": TOKEN,
                    "retry_initial": "50ms",
                    "retry_max": "200ms",
                    "telegram": {
                        "bot_token": api.token,
                        "chat_ids": list(chats),
                        "language": "uk",
                        "api_base_url": api.url,
                        "timeout": "2s",
                        "commands": False,  # the bot's own tests cover commands
                    },
                },
            }
        )
        self.receiver: Receiver | None = None

    async def start(self, plugs: RecordingPlugs) -> Receiver:
        self.integrations = await open_integrations(self.config)
        self.receiver = Receiver(self.config, notifier=self.integrations.notifier, plugs=plugs)
        await self.receiver.start()
        return self.receiver

    async def stop(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
            await self.integrations.close()
            self.receiver = None

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.receiver is not None
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.receiver.url + "/alertmanager",
                data=json.dumps(body),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            ) as resp,
        ):
            assert resp.status == 200  # whatever Telegram does, Alertmanager hears 200
            reply: dict[str, Any] = await resp.json()
            return reply


@pytest.fixture
async def running(api: FakeBotApi, tmp_path: Path) -> AsyncIterator[Running]:
    gw = Running(api, tmp_path / "data")
    yield gw
    await gw.stop()


async def test_telegram_429_retry_after_is_honoured(api: FakeBotApi, running: Running) -> None:
    plugs = RecordingPlugs(stagger=0.0)
    await running.start(plugs)
    api.fail("sendMessage", 429, retry_after=1)
    await running.post(griddown())
    await api.wait_for(lambda: len(api.sent) == 1, "the message after the 429")
    first, second = api.calls_of("sendMessage")
    assert (first.status, second.status) == (429, 200)
    # A lower bound the worker guarantees (it waits at least retry_after), so it cannot flake.
    assert second.at - first.at >= 1.0
    [message] = api.sent
    assert message.chat_id == CHAT
    assert all(plug in message.text for plug in plugs.group)  # the plug results are reported
    assert len(plugs.switched) == 3  # switched once, not again for the retried message


async def test_telegram_down_then_up_is_delivered_exactly_once(
    api: FakeBotApi, running: Running
) -> None:
    await api.go_down()
    plugs = RecordingPlugs(stagger=0.0)
    receiver = await running.start(plugs)  # Telegram unreachable at start is not fatal
    job = (await running.post(griddown()))["job"]
    assert job is not None

    def retried() -> bool:  # plugs switched while Telegram is still down
        found = receiver.outbox.job(job)
        return found is not None and found.attempts >= 2 and len(plugs.switched) == 3

    await api.wait_for(retried, "two failed attempts, plugs already switched")
    await api.come_up()
    await api.wait_for(lambda: len(api.sent) == 1, "delivery once Telegram is back")
    await api.wait_for(lambda: receiver.outbox.counts["done"] == 1, "the job finished")

    # Alertmanager re-sends it; the receiver restarts: still one message.
    assert (await running.post(griddown()))["duplicates"] == 1
    await running.stop()
    await running.start(RecordingPlugs(stagger=0.0))
    assert (await running.post(griddown()))["duplicates"] == 1
    await running.post(griddown("resolved"))
    await api.wait_for(lambda: len(api.sent) == 2, "the restore message")
    assert [m.chat_id for m in api.sent] == [CHAT, CHAT]
    assert api.sent[0].text != api.sent[1].text
    assert api.sent[1].disable_notification  # resolved arrives silently by default


async def test_a_restart_mid_delivery_does_not_resend_to_a_chat_already_served(
    api: FakeBotApi, tmp_path: Path
) -> None:
    running = Running(api, tmp_path / "data", chats=(CHAT, FAMILY))
    try:
        api.fail("sendMessage", 500, chat_id=FAMILY, times=1000)  # the group's side is failing
        receiver = await running.start(RecordingPlugs(stagger=0.0))
        job = (await running.post(griddown()))["job"]

        def retried() -> bool:
            found = receiver.outbox.job(job)
            return found is not None and found.attempts >= 2

        await api.wait_for(retried, "the group's delivery failing twice")
        assert len(api.texts(CHAT)) == 1  # served once, skipped on the retry

        # The receiver restarts (a new notifier, nothing in memory) and Telegram recovers.
        await running.stop()
        api.heal()
        receiver = await running.start(RecordingPlugs(stagger=0.0))
        await api.wait_for(lambda: len(api.texts(FAMILY)) == 1, "the group's message")
        await api.wait_for(lambda: receiver.outbox.counts["done"] == 1, "the job finished")
        assert len(api.texts(CHAT)) == 1  # not sent again after the restart
    finally:
        await running.stop()
