"""A second operator is one provider module: everything else (queue check, metrics, change
detection, API) is shared. This test writes such a module for a made-up operator whose API
looks like YASNO's (minutes since midnight, per-day status), serves it on loopback, and
registers it exactly as a real module would be registered in ``PROVIDERS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from gridwatch.core.source import SourceError
from gridwatch.sim.service import WebService
from gridwatch.sources.outages import providers
from gridwatch.sources.outages.fetch import fetch_json
from gridwatch.sources.outages.schedule import KYIV, DaySchedule, make_window
from tests.helpers import value
from tests.integration.outages_harness import HOUR, Harness, P, Q, api, harness, kyiv
from tests.integration.outages_harness import polls as outage_polls

pytestmark = [pytest.mark.integration, pytest.mark.clock]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class MinutesOperator:
    """``GET /groups`` → ``{"groups": [...]}``; ``GET /planned?group=`` → per-day slots."""

    operator: ClassVar[str] = "minutes-operator"
    tz: ClassVar[ZoneInfo] = KYIV

    def __init__(self, session: aiohttp.ClientSession, base_url: str | None) -> None:
        assert base_url is not None
        self._session = session
        self._base = base_url

    async def queues(self) -> frozenset[str]:
        payload = await fetch_json(self._session, "GET", f"{self._base}/groups")
        if not isinstance(payload, dict) or not isinstance(payload.get("groups"), list):
            raise SourceError("payload", "malformed group list")
        return frozenset(str(g) for g in payload["groups"])

    async def schedule(self, queue: str) -> Mapping[date, DaySchedule]:
        payload = await fetch_json(self._session, "GET", f"{self._base}/planned?group={queue}")
        if not isinstance(payload, dict):
            raise SourceError("payload", "malformed schedule")
        days = {}
        for entry in payload.values():
            if entry.get("status") != "ScheduleApplies":
                continue  # "WaitingForSchedule": not published
            day = date.fromisoformat(entry["date"])
            windows = tuple(
                make_window(day, _clock(slot["start"]), _clock(slot["end"]), self.tz)
                for slot in entry["slots"]
            )
            days[day] = DaySchedule(day, windows)
        return days


class MinutesServer(WebService):
    def __init__(self) -> None:
        super().__init__()
        self.planned: dict[str, Any] = {}

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/groups", self._groups)
        router.add_get("/planned", self._planned)

    async def _groups(self, request: web.Request) -> web.Response:
        return web.json_response({"groups": ["1.1", "2.1"]})

    async def _planned(self, request: web.Request) -> web.Response:
        return web.json_response(self.planned if request.query.get("group") == "2.1" else {})


@pytest.fixture
async def h(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(monkeypatch, tmp_path) as running:
        yield running


@pytest.fixture
async def minutes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MinutesServer]:
    # The one line a real module adds to providers/__init__.py.
    monkeypatch.setitem(providers.PROVIDERS, "minutes", MinutesOperator)
    async with MinutesServer() as server:
        yield server


async def test_a_second_operator_needs_only_its_provider(
    h: Harness, minutes: MinutesServer
) -> None:
    minutes.planned = {
        "today": {
            "date": "2026-11-20",
            "status": "ScheduleApplies",
            "slots": [{"start": 540, "end": 720}, {"start": 1320, "end": 1440}],
        },
        "tomorrow": {"date": "2026-11-21", "status": "WaitingForSchedule", "slots": []},
    }
    gw = await h.start(operator="minutes", queue="2.1", url=minutes.url)
    q = {"queue": "2.1"}
    s = await outage_polls(gw, device="2.1")
    assert value(s, P + "info", queue="2.1", operator="minutes-operator") == 1
    assert value(s, P + "outage_active", **q) == 0
    assert value(s, P + "next_outage_start_timestamp_seconds", **q) == kyiv("2026-11-20T09:00")
    assert value(s, P + "planned_outage_seconds", queue="2.1", day="today") == 5 * HOUR
    assert value(s, P + "day_published", queue="2.1", day="tomorrow") == 0
    assert (await api(gw))["operator"] == "minutes-operator"

    # Tomorrow gets published: the shared change detection sees it.
    minutes.planned["tomorrow"] = {
        "date": "2026-11-21",
        "status": "ScheduleApplies",
        "slots": [{"start": 0, "end": 120}],
    }
    s = await outage_polls(gw, 3, device="2.1")
    assert value(s, P + "changes_total", **q) == 1
    # 22:00–24:00 today and 00:00–02:00 tomorrow are one outage, as with be-svitlo.
    h.clock.set("2026-11-20T21:00")
    s = await outage_polls(gw, device="2.1")
    assert value(s, P + "next_outage_end_timestamp_seconds", **q) == kyiv("2026-11-21T02:00")


async def test_the_shared_queue_check_applies_to_it(h: Harness, minutes: MinutesServer) -> None:
    gw = await h.start(operator="minutes", queue="5.2", url=minutes.url)
    s = await outage_polls(gw)
    key = {"source": "outages", "device": "5.2", "reason": "unknown_queue"}
    assert (value(s, "gridwatch_source_errors_total", **key) or 0) >= 1
    assert value(s, P + "day_published", **Q, day="today") is None
