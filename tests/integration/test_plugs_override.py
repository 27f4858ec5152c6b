"""`/plugs NAME on|off [DURATION]` through the fake Bot API: the whole receiver (`start_receiver`,
as `gridwatch receiver` runs it) with tuyamock plugs — the person's switch goes through the
outbox, and the automation leaves the plug alone while the override lasts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.app import start_receiver
from gridwatch.receiver.telegram.override_cmd import parse
from gridwatch.sim.polling import wait_until
from gridwatch.sim.telegram.bot_api import FakeBotApi, SentMessage
from gridwatch.sim.tuya.local import TuyaLocalSim

pytestmark = pytest.mark.integration

HOME = 4242
FAST = {"connect_timeout": "0.5s", "connect_retries": 1, "retry_delay": 0, "stagger": "0.01s"}


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def ask(api: FakeBotApi, text: str) -> SentMessage:
    before = len(api.sent)
    api.user_message(HOME, text)
    await api.wait_for(lambda: len(api.sent) > before, f"an answer to {text}")
    return api.sent[before]


def test_parse() -> None:
    assert parse(["boiler", "off"]) == ("boiler", False, 3600.0)
    assert parse(["boiler", "ON", "30m"]) == ("boiler", True, 1800.0)
    assert parse(["boiler", "on", "2h"]) == ("boiler", True, 7200.0)
    assert parse(["boiler", "maybe"]) is None
    assert parse(["boiler", "on", "2d"]) is None
    assert parse(["boiler", "on", "0m"]) is None
    assert parse(["boiler"]) is None


async def test_a_person_switches_a_plug_off_for_two_hours(api: FakeBotApi, tmp_path: Path) -> None:
    plugs = TuyaLocalSim()
    boiler = plugs.add("boiler", on=True)
    plugs.start()
    config: Any = parse_config(
        {
            "site": {"data_dir": str(tmp_path)},
            "automation": {
                "exporter_url": "http://127.0.0.1:9",  # no exporter: the loop switches nothing
                "poll_interval": "1h",
                "loads": [{"name": "water_heater", "plug": "boiler", "on_below": 1.0e6}],
            },
            "receiver": {
                "token": "t0ken",
                "port": 0,
                "listen_address": "127.0.0.1",
                "tuya": {"plugs": plugs.configs()} | FAST,
                "telegram": {
                    "bot_token": api.token,
                    "chat_ids": [HOME],
                    "api_base_url": api.url,
                    "language": "en",
                    "poll_timeout": "1s",
                },
            },
        }
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            receiver = await start_receiver(config, stack)
            assert receiver.scheduled is not None
            # Updates queued before the bot's first getUpdates would be dropped as stale.
            await api.wait_for(lambda: bool(api.calls_of("getUpdates")), "the bot to poll")
            usage = await ask(api, "/plugs boiler sideways")
            assert usage.text.startswith("Usage: /plugs NAME on|off")
            assert (await ask(api, "/plugs kettle off")).text.startswith("Usage:")
            assert boiler.on is True

            done = await ask(api, "/plugs boiler off 2h")
            assert done.text.startswith("✋ boiler ❌ off for 120 min")
            await wait_until(lambda: boiler.on is False, what="the boiler off")
            held = receiver.scheduled.overrides.active("boiler", receiver.worker._clock())
            assert held is not None and held.on is False
            assert +receiver.stats.scheduled_switches == {"override": 1}
    finally:
        plugs.stop()
