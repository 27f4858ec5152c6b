"""The outage source against the simulated be-svitlo operator over loopback (outages_harness)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from gridwatch.core.source import SourceKey
from gridwatch.energy.battery import BatteryState
from tests.helpers import load_json, shared_fixture_files, shared_or_skip, value
from tests.integration.conftest import Running
from tests.integration.outages_harness import (
    HOUR,
    TODAY,
    TOMORROW,
    Harness,
    P,
    Q,
    api,
    errors,
    harness,
    kyiv,
    polls,
    serve,
    up,
)

pytestmark = [pytest.mark.integration, pytest.mark.clock]


@pytest.fixture
async def h(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(monkeypatch, tmp_path) as running:
        yield running


async def test_in_season_day_with_several_windows(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T10:00")
    gw = await h.start()
    s = await polls(gw)
    assert up(s) == 1
    assert value(s, P + "info", queue="5.2", operator="prykarpattyaoblenergo") == 1
    assert value(s, P + "outage_active", **Q) == 1  # inside 09:00–12:00
    assert value(s, P + "next_outage_start_timestamp_seconds", **Q) == kyiv("2026-11-20T09:00")
    assert value(s, P + "next_outage_end_timestamp_seconds", **Q) == kyiv("2026-11-20T12:00")
    assert value(s, P + "day_published", **TODAY) == 1
    assert value(s, P + "day_published", **TOMORROW) == 1  # published, with no outages
    assert value(s, P + "planned_outage_seconds", **TODAY) == 9 * HOUR
    assert value(s, P + "planned_outage_seconds", **TOMORROW) == 0
    assert value(s, P + "approved_timestamp_seconds", **TODAY) == kyiv("2026-11-20T00:05")
    assert value(s, P + "changes_total", **Q) == 0

    # Metrics are computed at scrape time: later the same day, without a new download.
    h.clock.set("2026-11-20T13:00")
    s = await gw.scrape()
    assert value(s, P + "outage_active", **Q) == 0
    assert value(s, P + "next_outage_start_timestamp_seconds", **Q) == kyiv("2026-11-20T18:00")

    body = await api(gw)
    assert body["queue"] == "5.2"
    assert body["timezone"] == "Europe/Kyiv"
    assert body["today"]["date"] == "2026-11-20" and body["today"]["published"] is True
    first = body["today"]["windows"][0]
    assert (first["from"], first["to"]) == ("00:00", "02:30")
    assert first["start"] == {"local": "2026-11-20T00:00:00+02:00", "utc": "2026-11-19T22:00:00Z"}
    assert body["tomorrow"] == {
        "date": "2026-11-21",
        "published": True,
        "status": "no_outages",
        "windows": [],
        "planned_outage_seconds": 0,
        "possible": [],
        "possible_outage_seconds": 0,
        "cells": ["on"] * 48,
        "hash": body["tomorrow"]["hash"],
        "approved_at": {"local": "2026-11-20T20:10:00+02:00", "utc": "2026-11-20T18:10:00Z"},
    }
    assert body["today"]["status"] == "published"
    assert len(body["tomorrow"]["hash"]) == 16 and body["today"]["hash"] != body["tomorrow"]["hash"]
    assert body["today"]["cells"][:6] == ["off"] * 5 + ["on"]  # 00:00–02:30
    assert body["next_outage"]["start"]["local"] == "2026-11-20T18:00:00+02:00"
    assert body["last_change"] == {"count": 0, "at": None, "days": []}
    # The bot's /schedule reads `days`: today and tomorrow, nothing later was published.
    assert body["days"] == [body["today"], body["tomorrow"]]


async def test_days_lists_up_to_three_days_from_today(h: Harness) -> None:
    d19, d20, d22, d23 = (date(2026, 11, d) for d in (19, 20, 22, 23))
    h.operator.set_days(
        "5.2", {d19: [("08:00", "09:00")], d20: [("09:00", "12:00")], d22: [], d23: []}
    )
    h.clock.set("2026-11-20T10:00")
    gw = await h.start()
    await polls(gw)
    body = await api(gw)
    # Yesterday is gone, tomorrow is there though unpublished, then the first later published
    # day; never more than three.
    assert [(d["date"], d["published"]) for d in body["days"]] == [
        ("2026-11-20", True),
        ("2026-11-21", False),
        ("2026-11-22", True),
    ]
    assert body["days"][0] == body["today"] and body["days"][1] == body["tomorrow"]
    assert "windows" not in body["days"][1]  # not published is not "no outages"


async def test_window_over_midnight(h: Harness) -> None:
    serve(h, "over_midnight_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T21:00")
    gw = await h.start()
    s = await polls(gw)
    assert value(s, P + "outage_active", **Q) == 0
    # 22:00–00:00 today and 00:00–02:00 tomorrow are one outage.
    assert value(s, P + "next_outage_start_timestamp_seconds", **Q) == kyiv("2026-11-20T22:00")
    assert value(s, P + "next_outage_end_timestamp_seconds", **Q) == kyiv("2026-11-21T02:00")
    assert value(s, P + "planned_outage_seconds", **TODAY) == 2 * HOUR
    h.clock.set("2026-11-21T00:30")
    s = await gw.scrape()
    assert value(s, P + "outage_active", **Q) == 1
    assert value(s, P + "planned_outage_seconds", **TODAY) == 4 * HOUR  # now the 21st
    assert value(s, P + "day_published", **TOMORROW) == 0


@pytest.mark.parametrize(
    ("name", "now", "local", "utc"),
    [
        (
            "summer_5.2_2026-07-15.json",
            "2026-07-15T09:00",
            "2026-07-15T14:00:00+03:00",
            "2026-07-15T11:00:00Z",
        ),
        (
            "winter_5.2_2026-01-15.json",
            "2026-01-15T09:00",
            "2026-01-15T14:00:00+02:00",
            "2026-01-15T12:00:00Z",
        ),
    ],
)
async def test_summer_and_winter_days(
    h: Harness, name: str, now: str, local: str, utc: str
) -> None:
    serve(h, name)
    h.clock.set(now)
    gw = await h.start()
    s = await polls(gw)
    start = value(s, P + "next_outage_start_timestamp_seconds", **Q)
    assert start == datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp()
    assert value(s, P + "planned_outage_seconds", **TODAY) == 4 * HOUR
    body = await api(gw)
    assert body["today"]["windows"][0]["start"] == {"local": local, "utc": utc}


async def test_dst_day_is_25_hours_long(h: Harness) -> None:
    serve(h, "dst_autumn_5.2_2026-10-25.json")
    h.clock.set("2026-10-25T01:00")
    gw = await h.start()
    s = await polls(gw)
    assert value(s, P + "planned_outage_seconds", **TODAY) == 8 * HOUR  # 4 h at night + 4 h
    assert value(s, P + "next_outage_end_timestamp_seconds", **Q) == kyiv("2026-10-25T05:00")


async def test_off_season_is_no_information_not_power_on(h: Harness) -> None:
    serve(h, "offseason_empty.json")
    gw = await h.start()
    s = await polls(gw)
    assert up(s) == 1
    assert value(s, P + "day_published", **TODAY) == 0
    assert value(s, P + "day_published", **TOMORROW) == 0
    for absent in (
        "outage_active",
        "next_outage_start_timestamp_seconds",
        "planned_outage_seconds",
    ):
        assert not [k for k in s if k[0] == P + absent], absent
    body = await api(gw)
    assert body["active"] is None and body["next_outage"] is None
    assert body["today"] == {"date": "2026-11-20", "published": False, "status": "no_data"}


async def test_unknown_queue_is_reported_as_such(h: Harness) -> None:
    gw = await h.start(queue="7.1")
    s = await polls(gw, device="7.1")
    assert up(s, "7.1") == 0
    assert errors(s, "unknown_queue", "7.1") >= 1
    assert value(s, P + "day_published", queue="7.1", day="today") is None
    body = await api(gw)
    assert body["source"]["error"]["reason"] == "unknown_queue"
    assert "5.2" in body["source"]["error"]["message"]  # lists the queues that do exist


async def test_queue_dropped_from_the_operator_list(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    gw = await h.start()
    await polls(gw)
    h.operator.queues.remove("5.2")
    h.clock.now += 25 * HOUR  # the queue list is checked again once a day
    s = await polls(gw)
    assert errors(s, "unknown_queue") >= 1


async def test_403_is_forbidden_with_a_geo_block_message(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.operator.mode = "forbidden"
    gw = await h.start()
    s = await polls(gw, 3)
    assert up(s) == 0
    assert errors(s, "forbidden") >= 3
    body = await api(gw)
    assert body["available"] is False
    assert "geo-blocks" in body["source"]["error"]["message"]
    down = [r for r in caplog.records if "is down" in r.getMessage()]
    assert len(down) == 1  # logged once, not per poll


async def test_garbage_loses_nothing(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T10:00")
    gw = await h.start()
    await polls(gw)
    h.operator.mode = "garbage"
    s = await polls(gw)
    assert errors(s, "payload") >= 1
    assert up(s) == 0
    # The schedule downloaded before is still in use (it is a plan, not a live value).
    assert value(s, P + "planned_outage_seconds", **TODAY) == 9 * HOUR
    h.operator.mode = "ok"
    serve(h, "garbage_bad_time.json")
    s = await polls(gw)
    assert errors(s, "payload") >= 2
    assert value(s, P + "planned_outage_seconds", **TODAY) == 9 * HOUR
    assert value(s, P + "changes_total", **Q) == 0  # a bad answer is not a change
    # Once too old, the cached schedule is dropped rather than shown as current.
    h.clock.set("2026-11-20T17:00")
    s = await gw.scrape()
    assert value(s, P + "day_published", **TODAY) is None
    assert value(s, P + "fetched_timestamp_seconds", **Q) is None


async def test_schedule_change_is_counted_once(h: Harness) -> None:
    d20, d21 = date(2026, 11, 20), date(2026, 11, 21)
    h.operator.set_days("5.2", {d20: [("09:00", "12:00")], d21: [("10:00", "12:00")]})
    gw = await h.start()
    s = await polls(gw, 3)
    assert value(s, P + "changes_total", **Q) == 0
    assert value(s, P + "last_change_timestamp_seconds", **Q) is None
    h.clock.set("2026-11-20T08:30")
    h.operator.set_days("5.2", {d20: [("09:00", "12:00")], d21: [("14:00", "18:00")]})
    s = await polls(gw, 3)
    assert value(s, P + "changes_total", **Q) == 1
    assert value(s, P + "last_change_timestamp_seconds", **Q) == kyiv("2026-11-20T08:30")
    assert value(s, P + "planned_outage_seconds", **TOMORROW) == 4 * HOUR
    body = await api(gw)
    assert body["last_change"]["days"] == ["2026-11-21"]


async def test_midnight_roll_over_and_restart_are_not_changes(h: Harness) -> None:
    d20, d21 = date(2026, 11, 20), date(2026, 11, 21)
    h.operator.set_days("5.2", {d20: [("09:00", "12:00")], d21: [("10:00", "12:00")]})
    h.clock.set("2026-11-20T23:50")
    gw = await h.start()
    await polls(gw)
    # After midnight the operator shows only the new today; yesterday just dropped off.
    h.clock.set("2026-11-21T00:10")
    h.operator.set_days("5.2", {d21: [("10:00", "12:00")]})
    s = await polls(gw, 3)
    assert value(s, P + "changes_total", **Q) == 0
    assert value(s, P + "day_published", **TODAY) == 1
    assert value(s, P + "day_published", **TOMORROW) == 0
    assert value(s, P + "next_outage_start_timestamp_seconds", **Q) == kyiv("2026-11-21T10:00")

    # Restart while the operator is unreachable: the saved schedule keeps the metrics going.
    await h.stop(gw)
    h.operator.mode = "forbidden"
    gw = await h.start()
    s = await polls(gw)
    assert up(s) == 0
    assert value(s, P + "planned_outage_seconds", **TODAY) == 2 * HOUR
    h.operator.mode = "ok"
    s = await polls(gw, 3)
    assert up(s) == 1
    assert value(s, P + "changes_total", **Q) == 0


async def test_outage_from_yesterday_stays_on_after_yesterday_drops_off(h: Harness) -> None:
    d20, d21 = date(2026, 11, 20), date(2026, 11, 21)
    h.operator.set_days("5.2", {d20: [("23:00", "01:00")], d21: [("10:00", "12:00")]})
    h.clock.set("2026-11-20T23:30")
    gw = await h.start()
    s = await polls(gw)
    assert value(s, P + "outage_active", **Q) == 1
    # After midnight the operator lists only the new today; the 23:00–01:00 outage goes on.
    h.clock.set("2026-11-21T00:30")
    h.operator.set_days("5.2", {d21: [("10:00", "12:00")]})
    s = await polls(gw, 3)
    assert value(s, P + "outage_active", **Q) == 1
    assert value(s, P + "next_outage_end_timestamp_seconds", **Q) == kyiv("2026-11-21T01:00")
    assert value(s, P + "changes_total", **Q) == 0
    assert (await api(gw))["active"] is True
    h.clock.set("2026-11-21T01:30")
    s = await polls(gw)
    assert value(s, P + "outage_active", **Q) == 0
    assert value(s, P + "next_outage_start_timestamp_seconds", **Q) == kyiv("2026-11-21T10:00")


@dataclass(frozen=True, slots=True)
class Battery:
    """A test reading that carries a battery, as BMS packs and inverters do (HasBatteryState)."""

    received_at: float
    state: BatteryState

    def battery_state(self) -> BatteryState:
        return self.state


async def test_battery_runtime_against_the_next_outage(h: Harness) -> None:
    serve(h, "several_windows_5.2_2026-11-20.json")
    h.clock.set("2026-11-20T16:00")
    gw = await h.start(typical_load_watts=800)
    await polls(gw)
    store = gw.exporter.store
    store.register(SourceKey("bms", "pack1"), 60)
    pack = Battery(h.clock(), BatteryState(remaining_wh=2000, power_watts=-500))
    store.success(SourceKey("bms", "pack1"), pack)
    s = await gw.scrape()
    assert value(s, "gridwatch_outage_battery_energy_joules", **Q) == 2000 * 3600
    assert value(s, "gridwatch_outage_battery_load_watts", **Q) == 500
    assert value(s, "gridwatch_outage_battery_runtime_seconds", **Q) == 4 * HOUR
    # Next outage 18:00–21:30 = 3.5 h at the configured typical load of 800 W.
    needed = 3.5 * HOUR * 800
    assert value(s, "gridwatch_outage_energy_needed_joules", **Q) == needed
    assert value(s, "gridwatch_outage_battery_margin_joules", **Q) == 2000 * 3600 - needed
    # A battery reading that went stale is not used.
    h.clock.now += 120
    s = await gw.scrape()
    assert value(s, "gridwatch_outage_battery_energy_joules", **Q) is None


async def test_api_without_outages_configured_is_not_routed(
    start_exporter: Callable[..., Awaitable[Running]],
) -> None:
    gw = await start_exporter()
    status, _, _ = await gw.get("/api/v1/outages")
    assert status == 404


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("outages", "*schedule-by-queue*.json"))
)
async def test_shared_captures_served_by_the_simulator(h: Harness, path: Path) -> None:
    payload = load_json(path)
    queue_list = shared_fixture_files("outages", "*gpv-queue-list*.json")
    h.operator.queues = [item["code"] for item in load_json(queue_list[0])]
    h.operator.set_payload("4.2", payload)
    if payload:
        day = datetime.strptime(payload[0]["eventDate"], "%d.%m.%Y").date()
        h.clock.set(f"{day.isoformat()}T06:00")
    gw = await h.start(queue="4.2")
    s = await polls(gw, device="4.2")
    assert up(s, "4.2") == 1
    today = {"queue": "4.2", "day": "today"}
    assert value(s, P + "day_published", **today) == (1 if payload else 0)
    if payload:
        assert (value(s, P + "planned_outage_seconds", **today) or 0) > 0
        start = value(s, P + "next_outage_start_timestamp_seconds", queue="4.2")
        assert start is not None and start > h.clock()


async def test_operator_errors_and_unreachable_operator(h: Harness) -> None:
    h.operator.mode = "error"
    gw = await h.start()
    s = await polls(gw)
    assert errors(s, "http_error") >= 1
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    gw2 = await h.start(name="closed", url=f"http://127.0.0.1:{closed}")
    s = await polls(gw2, device="closed")
    assert up(s, "closed") == 0
    assert errors(s, "connection", "closed") >= 1
