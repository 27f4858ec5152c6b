"""open_integrations builds what the config asks for: the real TuyaActions and TelegramNotifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.app import open_integrations
from gridwatch.receiver.payload import parse_notification
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.sim.telegram.bot_api import FakeBotApi
from tests.receiver_fakes import TOKEN, griddown

pytestmark = pytest.mark.integration


async def test_nothing_configured_means_no_integrations() -> None:
    found = await open_integrations(parse_config({"receiver": {"token": TOKEN}}))
    assert (found.notifier, found.plugs, found.closers) == (None, None, [])


async def test_tuya_and_telegram_are_wired_from_the_config(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        config = parse_config(
            {
                "receiver": {
                    "token": TOKEN,
                    "telegram": {
                        "bot_token": api.token,
                        "chat_ids": [42],
                        "api_base_url": api.url,
                        "commands": False,
                    },
                    "tuya": {
                        "plugs": [
                            {
                                "name": "boiler",
                                "group": "heavy",
                                "backend": "local",
                                "device_id": "bf0123456789abcdefgh",
                                "address": "127.0.0.1",
                                "local_key": "0123456789abcdef",
                                "version": "3.4",
                            }
                        ]
                    },
                    "actions": [
                        {"match": {"alertname": "GridDown"}, "groups": ["heavy"], "firing": "off"}
                    ],
                }
            }
        )
        found = await open_integrations(config)
        try:
            assert isinstance(found.plugs, TuyaActions)
            alert = parse_notification(griddown()).alerts[0]
            assert found.plugs.plan(alert) == [("boiler", False)]
            assert found.notifier is not None
            assert api.calls_of("getMe")  # the notifier checked its token at start
        finally:
            await found.close()
        assert found.closers == []
