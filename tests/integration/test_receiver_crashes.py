"""`gridwatch receiver` killed (SIGKILL) at random points of its work, again and again, while a
slow Telegram answers each message 0.15 s after delivering it and real local-protocol plugs are
switched (issue 15, fault 9).

The test plays Alertmanager: it posts grid-down / grid-back episodes, re-sends what was not
answered 200, and kills the receiver at random moments — mostly while a message is on its way.
At the end, counted from what the fake Bot API and the plugs hold:

* nothing lost: every alert reached every chat;
* every duplicate is accounted for: its first copy was a send the killed process could not have
  recorded (unanswered when it died, or the last it sent to that chat);
* the plugs are in the state the last alert asks for.

Kill moments come from a seeded RNG (``GRIDWATCH_CRASH_SEED``, default 15), so a failure can be
replayed; waits have generous limits that only guard against hangs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import yaml

from gridwatch.sim.telegram.bot_api import FakeBotApi
from gridwatch.sim.tuya.local import TuyaLocalSim
from tests.integration.receiver_process import receiver
from tests.integration.test_cli import free_port
from tests.receiver_fakes import TOKEN, griddown

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KILLS = 26  # ≥ 25, and even: the last alert is a grid-back
CHATS = (42, -100200300)
ANSWER_DELAY = 0.15  # Telegram delivers, then answers this much later
KYIV = ZoneInfo("Europe/Kyiv")
# Far from any day the test runs on, so every message shows the full date (no clock in play).
FIRST_START = datetime(2001, 1, 1, tzinfo=UTC)
GUARD = 30.0  # seconds; a limit against hangs, never a timing assertion


class SlowBotApi(FakeBotApi):
    """The fake Bot API that also notes which delivered messages were answered."""

    def __init__(self) -> None:
        super().__init__()
        self.answer_delay = ANSWER_DELAY
        self.answered: set[int] = set()

    async def _api_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        result = await super()._api_send_message(params)
        self.answered.add(int(result["message_id"]))
        return result


@dataclass
class Episode:
    k: int

    @property
    def starts(self) -> datetime:
        return FIRST_START + timedelta(hours=self.k)

    def payload(self, status: str) -> dict[str, Any]:
        data = griddown(status, self.starts.isoformat().replace("+00:00", "Z"))
        if status == "resolved":
            ends = self.starts + timedelta(minutes=self.k + 1)
            data["alerts"][0]["endsAt"] = ends.isoformat().replace("+00:00", "Z")
        return data


@dataclass
class Alertmanager:
    """What Alertmanager would do: post each notification until it is answered 200."""

    url: str
    unacked: list[dict[str, Any]] = field(default_factory=list)
    posted: int = 0

    async def post(self, body: dict[str, Any]) -> bool:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(self.url, data=json.dumps(body), headers=headers) as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def send(self, body: dict[str, Any]) -> None:
        self.unacked.append(body)
        self.posted += 1
        await self.flush()

    async def flush(self) -> None:
        for body in list(self.unacked):
            if await self.post(body):
                self.unacked.remove(body)


@dataclass
class Ledger:
    """Which delivered messages a kill may have left unrecorded in the receiver."""

    api: SlowBotApi
    unrecorded: set[int] = field(default_factory=set)
    kills_during_a_send: int = 0
    _since: int = 0  # index in api.sent where the current process began

    def kill(self) -> None:
        mine = self.api.sent[self._since :]
        in_flight = {m.message_id for m in mine if m.message_id not in self.api.answered}
        last_per_chat = {m.chat_id: m.message_id for m in mine}
        self.unrecorded |= in_flight | set(last_per_chat.values())
        self.kills_during_a_send += bool(in_flight)
        self._since = len(self.api.sent)


async def _until(check: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not await _maybe_await(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _maybe_await(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


async def _healthz(base: str) -> dict[str, Any] | None:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(base + "/healthz") as response,
        ):
            return dict(await response.json()) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def _write_config(path: Path, api: FakeBotApi, plugs: TuyaLocalSim, port: int) -> None:
    config = {
        "site": {"data_dir": str(path.parent / "data"), "timezone": "Europe/Kyiv"},
        "receiver": {
            "listen_address": "127.0.0.1",
            "port": port,
            "token": TOKEN,
            "retry_initial": "50ms",
            "retry_max": "200ms",
            "log_level": "warning",
            "telegram": {
                "bot_token": api.token,
                "chat_ids": list(CHATS),
                "language": "en",
                "api_base_url": api.url,
                "timeout": "5s",
                "commands": False,
            },
            "tuya": {
                "plugs": plugs.configs(),
                "connect_timeout": "2s",
                "connect_retries": 1,
                "retry_delay": 0,
                "timeout": "5s",
                "stagger": "0.05s",
            },
            "actions": [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}],
        },
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


async def test_sigkill_at_random_points_loses_nothing_and_explains_every_duplicate(
    tmp_path: Path,
) -> None:
    rng = random.Random(os.environ.get("GRIDWATCH_CRASH_SEED", "15"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config, log = tmp_path / "gridwatch.yml", tmp_path / "receiver.log"
    with TuyaLocalSim() as plugs:
        for name, version in (("boiler", "3.4"), ("pump", "3.3")):
            plugs.add(name, version=version, on=True, groups=["heavy"])
        plugs.start()
        async with SlowBotApi() as api:
            _write_config(config, api, plugs, port)
            am = Alertmanager(base + "/alertmanager")
            ledger = Ledger(api)
            events: list[tuple[Episode, str]] = []
            for round_ in range(KILLS):
                async with receiver(config, log) as proc:
                    await _until(lambda: _healthz(base), "the receiver answering")
                    await am.flush()  # what the last kill left unanswered
                    episode = Episode(round_ // 2)
                    status = "firing" if round_ % 2 == 0 else "resolved"
                    events.append((episode, status))
                    before = len(api.sent)
                    await am.send(episode.payload(status))
                    if rng.random() < 0.75:
                        # Mostly while a message is on its way (inside its answer delay).
                        await _until(lambda b=before: len(api.sent) > b, "a send")
                        await asyncio.sleep(rng.uniform(0, ANSWER_DELAY * 1.2))
                    else:  # sometimes while plugs are switched, before any send
                        await asyncio.sleep(rng.uniform(0, 0.05))
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
                    ledger.kill()

            # A last start, left to finish its work, then stopped as systemd would.
            async with receiver(config, log) as proc:
                await _until(lambda: _healthz(base), "the receiver answering")
                await am.flush()

                async def idle() -> bool:
                    health = await _healthz(base)
                    return health is not None and health["outbox"]["pending"] == 0

                await _until(idle, "every job finished")
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), GUARD) == 0

            assert am.unacked == []
            _check_messages(api, ledger, events)
            # The last alert was a resolution: every plug is on again.
            assert {name: plug.on for name, plug in plugs.plugs.items()} == {
                "boiler": True,
                "pump": True,
            }
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def _check_messages(api: SlowBotApi, ledger: Ledger, events: list[tuple[Episode, str]]) -> None:
    duplicates = 0
    for chat in CHATS:
        mine = [m for m in api.sent if m.chat_id == chat]
        copies = Counter(m.text for m in mine)
        # Nothing lost: one distinct message per alert, the firing ones showing their start.
        assert len(copies) == len(events), (chat, len(copies), len(events))
        for episode, status in events:
            if status == "firing":
                shown = f"{episode.starts.astimezone(KYIV):%d.%m.%Y %H:%M}"
                assert any(shown in text for text in copies), (chat, shown)
        # Every duplicate's first copy is one a kill left unrecorded.
        for text, count in copies.items():
            if count > 1:
                first = next(m for m in mine if m.text == text)
                assert first.message_id in ledger.unrecorded, (chat, text[:60])
                duplicates += count - 1
    print(
        f"\n{len(ledger.unrecorded)} sends unrecorded at {KILLS} kills "
        f"({ledger.kills_during_a_send} during a send); {duplicates} duplicate(s), 0 lost"
    )
