"""What a user sees when the operator misbehaves: timeouts, HTTP errors, bodies that are not a
schedule. Each is the source down with its reason, counted, logged once, and no schedule series
made up; a good answer afterwards brings everything back.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridwatch.sources.outages.fetch import MAX_BODY
from tests.integration.conftest import Running
from tests.integration.outages_harness import (
    FIX,
    HOUR,
    TODAY,
    Harness,
    P,
    api,
    errors,
    harness,
    polls,
    schedule_series,
    serve,
    up,
)

pytestmark = [pytest.mark.integration, pytest.mark.clock]


@pytest.fixture
async def h(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(monkeypatch, tmp_path) as running:
        yield running


def down_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "outages/5.2 is down" in r.getMessage()
    ]


async def recovers(h: Harness, gw: Running) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    s = await polls(gw)
    assert up(s) == 1
    assert (await api(gw))["source"] == {"up": True, "error": None}


async def test_operator_that_does_not_answer_is_a_timeout(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.operator.delay = 1.0  # longer than the configured per-request timeout
    gw = await h.start(timeout="0.2s")
    s = await polls(gw, 2)
    assert up(s) == 0
    assert errors(s, "timeout") >= 2
    assert errors(s, "connection") == 0  # a slow operator is not an unreachable one
    assert schedule_series(s) == []
    error = (await api(gw))["source"]["error"]
    assert error["reason"] == "timeout"
    assert "did not answer within 0.2s" in error["message"]
    assert len(down_logs(caplog)) == 1
    h.operator.delay = 0.0
    await recovers(h, gw)


@pytest.mark.parametrize("status", [404, 500, 502, 503])
async def test_http_errors_name_the_status(
    h: Harness, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    h.operator.mode = "error"
    h.operator.error_status = status
    gw = await h.start()
    s = await polls(gw, 3)
    assert up(s) == 0
    assert errors(s, "http_error") >= 3
    assert schedule_series(s) == []
    error = (await api(gw))["source"]["error"]
    assert error["reason"] == "http_error"
    assert f"HTTP {status}" in error["message"]
    assert len(down_logs(caplog)) == 1
    h.operator.mode = "ok"
    await recovers(h, gw)


BAD_BODIES = {
    "html page": (FIX / "garbage_html.txt").read_bytes(),
    "bad time": (FIX / "garbage_bad_time.json").read_bytes(),
    "bad date": (FIX / "garbage_bad_date.json").read_bytes(),
    "object, not a list": (FIX / "garbage_not_a_list.json").read_bytes(),
    "empty body": b"",
    "cut short": (FIX / "several_windows_5.2_2026-11-20.json").read_bytes()[:200],
    "not UTF-8": b'[{"eventDate": "\xff\xfe"}]',
    "too big": b"[" + b" " * MAX_BODY + b"]",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_bodies_that_are_not_a_schedule(
    h: Harness, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    h.operator.set_raw("5.2", body)
    gw = await h.start()
    s = await polls(gw, 3)
    assert up(s) == 0
    assert errors(s, "payload") >= 3
    assert schedule_series(s) == []  # nothing published, nothing active: unknown stays unknown
    body_json = await api(gw)
    assert body_json["available"] is False
    assert body_json["today"] == {"date": "2026-11-20", "published": False, "status": "no_data"}
    assert body_json["source"]["error"]["reason"] == "payload"
    assert len(down_logs(caplog)) == 1
    await recovers(h, gw)


async def test_a_broken_queue_list_stops_before_the_schedule(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.operator.queues = []  # the operator answers [] for its queue list: nothing to check against
    gw = await h.start()
    s = await polls(gw, 2)
    assert up(s) == 0
    assert errors(s, "payload") >= 2
    assert h.operator.requests["schedule-by-queue"] == 0
    assert "queue list" in (await api(gw))["source"]["error"]["message"]


async def test_failure_after_a_good_download_keeps_the_plan_then_drops_it(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T10:00")
    gw = await h.start(stale_after="2h")
    s = await polls(gw)
    fetched = s[(P + "fetched_timestamp_seconds", frozenset({("queue", "5.2")}))]
    h.operator.mode = "error"
    s = await polls(gw)
    assert up(s) == 0
    # The plan downloaded at 10:00 is still the plan; its age is visible to the user.
    assert s[(P + "planned_outage_seconds", frozenset(TODAY.items()))] == 9 * HOUR
    assert s[(P + "fetched_timestamp_seconds", frozenset({("queue", "5.2")}))] == fetched
    h.clock.now += 2 * HOUR + 1
    s = await gw.scrape()
    assert schedule_series(s) == []
    assert (await api(gw))["available"] is False
