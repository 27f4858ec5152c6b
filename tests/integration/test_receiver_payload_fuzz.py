"""Hypothesis over the webhook: arbitrary Unicode in every text and timestamps at the limits of
the format, posted to the running receiver with the real Telegram notifier and the fake Bot API
(issue 15). Each request is answered 200 or 400, never 5xx; everything answered 200 is
delivered — no job is poison, none is dead-lettered, every message parses as Telegram's HTML."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.config import parse_config
from gridwatch.receiver.app import Receiver, open_integrations
from gridwatch.sim.telegram.bot_api import FakeBotApi, check_html
from tests.receiver_fakes import TOKEN, RecordingPlugs, am_payload

pytestmark = pytest.mark.integration

TEXT = st.text(st.characters(codec=None), max_size=60)  # every code point, lone surrogates too
TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T23:59:59.999999999+23:59",
        "9999-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59-14:00",
        "1970-01-01T00:00:00Z",
        "2026-03-29T01:59:59.5+01:00",
        "2026-11-22T05:39:34.244648123+02:00",
        "not a time",
    ]
)
ALERT = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "labels": st.dictionaries(TEXT, TEXT, max_size=3).map(
            lambda labels: {**labels, "alertname": labels.get("alertname", "GridDown")}
        ),
        "annotations": st.dictionaries(st.sampled_from(["summary", "description"]) | TEXT, TEXT),
        "startsAt": TIMES,
        "endsAt": TIMES,
        "fingerprint": st.from_regex(r"[0-9a-f]{1,16}", fullmatch=True),
    }
)


def _body(alerts: list[dict[str, Any]], receiver: str) -> bytes:
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["alerts"] = alerts
    data["receiver"] = receiver
    data["commonAnnotations"] = alerts[0]["annotations"]
    # ensure_ascii escapes lone surrogates as \\udXXX, as a JSON sender may
    return json.dumps(data).encode()


def test_any_payload_is_answered_200_or_400_and_whatever_is_accepted_is_delivered(
    tmp_path: Path,
) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_run(tmp_path, loop))
    finally:
        loop.close()


async def _run(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    async with FakeBotApi() as api:
        config = parse_config(
            {
                "site": {"data_dir": str(tmp_path / "data"), "timezone": "America/Los_Angeles"},
                "receiver": {
                    "listen_address": "127.0.0.1",
                    "port": 0,
                    "token": TOKEN,
                    "telegram": {
                        "bot_token": api.token,
                        "chat_ids": [42],
                        "api_base_url": api.url,
                        "commands": False,
                    },
                },
            }
        )
        integrations = await open_integrations(config)
        receiver = Receiver(
            config, notifier=integrations.notifier, plugs=RecordingPlugs(stagger=0.0)
        )
        await receiver.start()
        accepted = 0
        try:
            async with aiohttp.ClientSession() as session:
                headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

                async def post(body: bytes) -> int:
                    async with session.post(
                        receiver.url + "/alertmanager", data=body, headers=headers
                    ) as response:
                        return response.status

                @settings(
                    max_examples=100,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                    database=None,
                )
                @given(alerts=st.lists(ALERT, min_size=1, max_size=3), receiver_name=TEXT)
                def one(alerts: list[dict[str, Any]], receiver_name: str) -> None:
                    nonlocal accepted
                    body = _body(alerts, receiver_name)
                    status = asyncio.run_coroutine_threadsafe(post(body), loop).result(30)
                    assert status in {200, 400}
                    accepted += status == 200

                await asyncio.to_thread(one)
                assert accepted  # the strategy does produce valid payloads

                def finished() -> bool:
                    return receiver.outbox.counts["pending"] == 0

                await api.wait_for(finished, "every accepted job finished", timeout=120)
        finally:
            await receiver.stop()
            await integrations.close()
        assert receiver.outbox.counts["dead"] == 0
        sent = api.calls_of("sendMessage")
        assert sent and all(call.status in (None, 200) for call in sent)
        assert all(check_html(message.text)[0] is None for message in api.sent)
