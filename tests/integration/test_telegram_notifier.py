"""TelegramNotifier against the fake Bot API on loopback: what each chat receives, and how
Telegram's failures become retryable or final DeliveryErrors without resending to anyone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.model import Alert, Notification, PlugResult
from gridwatch.receiver.ports import DeliveryError, Notifier
from gridwatch.receiver.telegram.config import TelegramConfig
from gridwatch.receiver.telegram.notifier import TelegramNotifier
from gridwatch.sim.telegram.bot_api import FakeBotApi

pytestmark = [pytest.mark.integration, pytest.mark.clock]
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def config(api: FakeBotApi, **extra: object) -> TelegramConfig:
    section = {"bot_token": api.token, "chat_ids": [42, -100777], "api_base_url": api.url}
    parsed = parse_config({"receiver": {"telegram": {**section, **extra}}})
    assert parsed.receiver is not None and parsed.receiver.telegram is not None
    return parsed.receiver.telegram


def grid_down(status: str = "firing", fingerprint: str = "a1b2c3d4e5f60718") -> Notification:
    alert = Alert(
        status="firing" if status == "firing" else "resolved",
        labels={"alertname": "GridDown", "severity": "critical"},
        annotations={"summary": "Grid power is down", "description": "Mains 0 V (< 170 V) & 0 Hz"},
        starts_at=START,
        ends_at=None if status == "firing" else START + timedelta(minutes=90),
        fingerprint=fingerprint,
    )
    return Notification("telegram", alert.status, (alert,), group_key='{}:{alertname="GridDown"}')


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def started(cfg: TelegramConfig) -> TelegramNotifier:
    notifier = TelegramNotifier(cfg, tz="Europe/Kyiv")
    await notifier.start()
    return notifier


async def test_every_chat_gets_the_html_message(api: FakeBotApi) -> None:
    notifier = await started(config(api, language="uk"))
    _: Notifier = notifier  # it is what the core codes against
    try:
        await notifier.notify(grid_down(), [PlugResult("boiler <2kW>", False, "ok")])
    finally:
        await notifier.close()
    assert api.calls[0].method == "getMe"
    assert api.chats() == {42, -100777}
    for chat in (42, -100777):
        (text,) = api.texts(chat)
        assert text.startswith("<b>⚠️ Мережа зникла!</b>\n‼️ Увага:")
        assert "<i>Mains 0 V (&lt; 170 V) &amp; 0 Hz</i>" in text
        assert "✓ boiler &lt;2kW&gt; вимкнено" in text
    sent = api.calls_of("sendMessage")[0].params
    assert sent["parse_mode"] == "HTML"
    assert sent["disable_notification"] in ("False", "false")  # firing: with a sound


async def test_resolved_arrives_silently_and_says_how_long(api: FakeBotApi) -> None:
    notifier = await started(config(api, chat_ids=[42]))
    await notifier.notify(grid_down("resolved"), [])
    await notifier.close()
    (message,) = api.sent
    assert message.disable_notification is True
    # The firing description ("Mains 0 V …") no longer holds, so it is not repeated.
    assert message.text.splitlines() == ["<b>✅ The grid is back</b>", "Lasted 1 h 30 min"]


async def test_a_long_notification_arrives_in_parts_in_order(api: FakeBotApi) -> None:
    alerts = tuple(
        Alert("firing", {"alertname": "SourceDown", "source": "bms", "device": f"pack{n}"},
              {"description": f"pack {n} " + "silent " * 60}, START, None, f"{n:016x}")
        for n in range(40)
    )  # fmt: skip
    notifier = await started(config(api, chat_ids=[42]))
    await notifier.notify(Notification("telegram", "firing", alerts), [])
    await notifier.close()
    texts = api.texts(42)
    assert len(texts) >= 3  # the fake rejects any part over 4096 characters
    assert "pack0" in texts[0] and "pack39" in texts[-1]
    assert sum(t.count("📡") for t in texts) == 40


async def test_429_surfaces_retry_after_and_the_retry_sends_only_the_rest(api: FakeBotApi) -> None:
    notifier = await started(config(api))
    api.fail("sendMessage", 429, retry_after=7, chat_id=-100777)
    with pytest.raises(DeliveryError) as info:
        await notifier.notify(grid_down(), [])
    assert info.value.retryable is True
    assert info.value.retry_after == 7
    assert api.chats() == {42}  # served before the group hit the flood limit

    await notifier.notify(grid_down(), [])  # the core's retry
    await notifier.close()
    assert len(api.texts(42)) == 1  # not sent twice
    assert len(api.texts(-100777)) == 1


async def test_telegram_down_then_up_delivers_once(api: FakeBotApi) -> None:
    notifier = await started(config(api, chat_ids=[42], timeout="2s"))
    await api.go_down()
    with pytest.raises(DeliveryError) as info:
        await notifier.notify(grid_down(), [])
    assert info.value.retryable is True and info.value.retry_after is None
    api.fail("sendMessage", 500)  # back, but its first answer is a server error
    await api.come_up()
    with pytest.raises(DeliveryError) as info:
        await notifier.notify(grid_down(), [])
    assert info.value.retryable is True
    await notifier.notify(grid_down(), [])
    await notifier.close()
    assert len(api.texts(42)) == 1


async def test_a_chat_that_can_never_receive_fails_finally_but_others_are_served(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = await started(config(api))
    api.fail("sendMessage", 400, chat_id=42, description="Bad Request: chat not found")
    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryError) as info:
        await notifier.notify(grid_down(), [])
    await notifier.close()
    assert info.value.retryable is False
    assert "chat 42" in str(info.value) and "Chat not found" in str(info.value)
    assert api.chats() == {-100777}
    assert [r.message for r in caplog.records].count(str(info.value)) == 1  # logged once


async def test_blocked_by_the_user_is_final(api: FakeBotApi) -> None:
    notifier = await started(config(api, chat_ids=[42]))
    api.fail("sendMessage", 403)
    with pytest.raises(DeliveryError) as info:
        await notifier.notify(grid_down(), [])
    await notifier.close()
    assert info.value.retryable is False and "blocked" in str(info.value)


async def test_telegram_unreachable_at_start_is_not_fatal(api: FakeBotApi) -> None:
    await api.go_down()
    notifier = await started(config(api, chat_ids=[42], timeout="2s"))  # logs, does not raise
    await api.come_up()
    await notifier.notify(grid_down(), [])
    await notifier.close()
    assert [c.method for c in api.calls] == ["getMe", "sendMessage"]


async def test_a_rejected_token_is_one_error_line_a_health_problem_and_never_logged(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 15, fault 4: a wrong or revoked token ended the receiver (no load shedding). Now it
    costs only Telegram: start returns, health shows why, messages wait and are retried."""
    wrong = "7000000001:AAWrongTokenWrongTokenWrongToken_xx"
    cfg = config(api, chat_ids=[42], bot_token=wrong)
    notifier = TelegramNotifier(cfg)
    with caplog.at_level(logging.DEBUG):
        await notifier.start()
        with pytest.raises(DeliveryError) as info:
            await notifier.notify(grid_down(), [], target="42")
    assert info.value.retryable is True  # the work is kept until the token is fixed
    assert notifier.problem is not None and "rejected" in notifier.problem
    assert api.calls[0].status == 401
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # one line, no traceback
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert logged, "PTB and httpx log at DEBUG; nothing captured means the check is void"
    assert wrong not in logged and wrong not in str(info.value) and wrong not in notifier.problem
    await notifier.close()


async def test_the_token_never_reaches_the_logs(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        notifier = await started(config(api, chat_ids=[42]))
        await notifier.notify(grid_down(), [])
        await api.go_down()
        with pytest.raises(DeliveryError):
            await notifier.notify(grid_down(fingerprint="ffffffffffffffff"), [])
        await notifier.close()
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "sendMessage" in text  # PTB's debug lines were captured…
    assert api.token not in text  # …with the token redacted
