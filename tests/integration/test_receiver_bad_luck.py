"""The receiver with the real Telegram notifier against the fake Bot API, under bad input and
bad luck (issue 15): poison payloads, a chat that keeps failing, a rejected bot token,
malformed requests from strangers. Load shedding and the other chats carry on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from gridwatch.sim.telegram.bot_api import FakeBotApi, check_html
from tests.integration.test_receiver_delivery import CHAT, FAMILY, Running
from tests.receiver_fakes import TOKEN, RecordingPlugs, griddown

pytestmark = pytest.mark.integration


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def test_poison_payloads_never_hold_back_the_next_message(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Fault 1: these were accepted, then failed to render on every try for 24 h, and every
    later message waited behind them."""
    running = Running(api, tmp_path / "data")
    try:
        await running.start(RecordingPlugs(stagger=0.0))
        assert running.receiver is not None
        for stamp in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"):
            status, reply = await _post(running, griddown(starts=stamp))
            assert status == 400 and "startsAt" in reply["error"]  # refused, naming the field
        surrogate = json.dumps(griddown(starts="2026-11-22T04:00:00Z"))
        surrogate = surrogate.replace('"Grid lost"', '"Grid \\ud800 lost"')
        assert (await _post_raw(running, surrogate.encode()))[0] == 200
        year_one = griddown(starts="0001-01-01T00:00:00Z")  # Go's zero time: valid
        assert (await _post(running, year_one))[0] == 200
        await running.post(griddown())
        await api.wait_for(lambda: len(api.texts(CHAT)) == 3, "all three messages")
        assert all(check_html(text)[0] is None for text in api.texts(CHAT))
        assert running.receiver.outbox.counts == {"pending": 0, "done": 3, "dead": 0}
    finally:
        await running.stop()


async def test_one_failing_chat_does_not_hold_back_another(api: FakeBotApi, tmp_path: Path) -> None:
    """Fault 1: a job failing for one chat held every chat's later messages."""
    running = Running(api, tmp_path / "data", chats=(FAMILY, CHAT))
    try:
        api.fail("sendMessage", 502, chat_id=FAMILY, times=10_000)
        await running.start(RecordingPlugs(stagger=0.0))
        await running.post(griddown())
        await running.post(griddown("resolved"))
        await api.wait_for(lambda: len(api.texts(CHAT)) == 2, "both messages in the other chat")
        assert api.texts(FAMILY) == []
        first, second = api.texts(CHAT)
        assert first != second  # grid lost, then grid back
        api.heal()
        await api.wait_for(lambda: len(api.texts(FAMILY)) == 2, "the family chat catching up")
        assert api.texts(FAMILY) == api.texts(CHAT)  # the same messages, in the same order
    finally:
        await running.stop()


async def test_a_rejected_bot_token_costs_only_telegram(api: FakeBotApi, tmp_path: Path) -> None:
    """Fault 4: the receiver exited with a traceback; no webhook, no plug switched."""
    running = Running(api, tmp_path / "data")
    running.config = running.config.model_copy(
        update={
            "receiver": running.config.receiver.model_copy(  # type: ignore[union-attr]
                update={
                    "telegram": running.config.receiver.telegram.model_copy(  # type: ignore[union-attr]
                        update={
                            "bot_token": SecretStr("7000000001:AAWrongTokenWrongTokenWrongToken_xx")
                        }
                    )
                }
            )
        }
    )
    plugs = RecordingPlugs(stagger=0.0)
    try:
        receiver = await running.start(plugs)
        await running.post(griddown())
        await api.wait_for(lambda: len(plugs.switched) == 3, "load shed without Telegram")
        async with aiohttp.ClientSession() as session, session.get(receiver.url + "/healthz") as r:
            health = await r.json()
        assert r.status == 200 and health["status"] == "degraded"
        assert "rejected" in health["notifier"] and "AAWrong" not in health["notifier"]
        assert receiver.outbox.counts["pending"] == 1  # kept, to send once the token is fixed
    finally:
        await running.stop()


async def test_an_oversized_header_is_one_warning_line_not_a_traceback_each(
    api: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault 8: aiohttp logged ERROR with a traceback for every oversized header or URL."""
    running = Running(api, tmp_path / "data")
    try:
        receiver = await running.start(RecordingPlugs(stagger=0.0))
        assert receiver.port is not None
        with caplog.at_level(logging.DEBUG):
            for n in range(5):
                huge = f"GET /{'u' * 20_000 if n % 2 else ''} HTTP/1.1\r\nX: {'h' * 20_000}\r\n"
                reply = await _raw_request(receiver.port, huge.encode() + b"\r\n")
                assert reply.startswith(b"HTTP/1.1 400") or reply.startswith(b"HTTP/1.0 400")
        noisy = [r for r in caplog.records if r.name.startswith("aiohttp")]
        assert [r.levelname for r in noisy] == ["WARNING"]
        assert noisy[0].exc_info is None and "malformed request" in noisy[0].getMessage()
    finally:
        await running.stop()


async def _raw_request(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(200), 10)
    finally:
        writer.close()


async def _post(running: Running, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    return await _post_raw(running, json.dumps(body).encode())


async def _post_raw(running: Running, data: bytes) -> tuple[int, dict[str, object]]:
    assert running.receiver is not None
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(running.receiver.url + "/alertmanager", data=data, headers=headers) as r,
    ):
        reply: dict[str, object] = await r.json()
        return r.status, reply
