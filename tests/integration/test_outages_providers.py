"""YASNO, a DTEK-format mirror and Lvivoblenergo through ``gridwatch run``: the real exporter on a
test clock polls the simulated peer over loopback, serving the real captures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.outage_text import schedule_text
from gridwatch.receiver.telegram.queries import Peers
from gridwatch.receiver.telegram.templates import Catalog
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.outages.peers import (
    LOE_MENUS,
    YASNO_PROBABLE,
    OperatorPeer,
    gpv_file,
    loe_menus,
    loe_text,
    yasno_day,
    yasno_group,
    yasno_path,
)
from gridwatch.sources.inverter.regmap import load_shipped
from gridwatch.sources.outages.schedule import KYIV
from tests.helpers import PROJECT_FIXTURES, SHARED_FIXTURES, Samples, load_json, value
from tests.integration.conftest import Running, exporters_under_test
from tests.integration.outages_harness import Clock, kyiv

pytestmark = [pytest.mark.integration, pytest.mark.clock]

FIX = PROJECT_FIXTURES / "outages"
P = "gridwatch_outage_schedule_"
HOUR = 3600.0
MIRROR = "/data/dnipro.json"


@pytest.fixture
async def peer() -> AsyncIterator[OperatorPeer]:
    async with OperatorPeer() as server:
        yield server


@pytest.fixture
async def run(peer: OperatorPeer, tmp_path: Path) -> AsyncIterator[Any]:
    async with exporters_under_test() as run_exporter:

        async def start(
            clock: Clock, extra: dict[str, Any] | None = None, **outages: Any
        ) -> Running:
            config = parse_config(
                {
                    "site": {"timezone": "Europe/Kyiv", "data_dir": str(tmp_path)},
                    "exporter": {"listen_address": "127.0.0.1", "port": 0},
                    "outages": {"interval": "0.1s", **outages},
                    **(extra or {}),
                }
            )
            return await run_exporter(config, clock)

        yield start


def at(text: str) -> Clock:
    clock = Clock()
    clock.set(text)
    return clock


def day(q: str, label: str) -> dict[str, str]:
    return {"queue": q, "day": label}


def status(s: Samples, q: str, label: str) -> str | None:
    found = [
        dict(labels)["status"]
        for name, labels in s
        if name == P + "day_status"
        and dict(labels)["queue"] == q
        and dict(labels)["day"] == label
        and s[(name, labels)] == 1
    ]
    return found[0] if found else None


async def api(gw: Running) -> dict[str, Any]:
    code, body, _ = await gw.get("/api/v1/outages")
    assert code == 200
    result: dict[str, Any] = json.loads(body)
    return result


def fetched(q: str) -> Any:
    return lambda s: value(s, P + "fetched_timestamp_seconds", queue=q) is not None


def source(s: Samples, q: str) -> float | None:
    return value(s, "gridwatch_source_up", source="outages", device=q)


async def test_yasno_waiting_tomorrow_is_preliminary(peer: OperatorPeer, run: Any) -> None:
    peer.serve(yasno_path(25, 902), load_json(FIX / "yasno_waiting_1.1_2025-12-13.json"))
    # 2025-12-13 is a Saturday ("5"): a possible block 18:00–20:00 from the weekly template.
    probable = {"25": {"dsos": {"902": {"groups": {"1.1": {"slots": {
        "5": [{"start": 1080, "end": 1200, "type": "Definite"}]}}}}}}}  # fmt: skip
    peer.serve(YASNO_PROBABLE, probable)
    gw = await run(at("2025-12-13T12:00"), operator="yasno-kyiv", queue="1.1", url=peer.url)
    s = await gw.wait_for("a schedule", fetched("1.1"))
    assert status(s, "1.1", "today") == "no_outages" and status(s, "1.1", "tomorrow") == "waiting"
    assert value(s, P + "outage_active", queue="1.1") == 0
    assert value(s, P + "planned_outage_seconds", **day("1.1", "tomorrow")) is None
    assert value(s, P + "preliminary_outage_seconds", **day("1.1", "tomorrow")) == 13.5 * HOUR
    assert value(s, P + "possible_outage_seconds", **day("1.1", "today")) == 2 * HOUR
    # Preliminary slots never become "the next outage" (no alert on them) …
    assert value(s, P + "next_outage_start_timestamp_seconds", queue="1.1") is None
    # … but show as the next possible one: today's 18:00 template block.
    start = value(s, P + "next_possible_outage_start_timestamp_seconds", queue="1.1")
    assert start == kyiv("2025-12-13T18:00")
    body = await api(gw)
    assert body["operator"] == "dtek-kem"
    assert body["tomorrow"]["status"] == "waiting" and body["tomorrow"]["published"] is False
    assert [w["from"] for w in body["tomorrow"]["preliminary"]] == ["00:00", "06:30", "17:00"]
    assert "windows" not in body["tomorrow"]


async def test_yasno_emergency_is_not_an_empty_schedule(peer: OperatorPeer, run: Any) -> None:
    path = FIX / "yasno_emergency_cek_4.2_2025-12-23.json"
    peer.serve(yasno_path(3, 303), load_json(path))
    gw = await run(at("2025-12-23T10:00"), operator="yasno-dnipro-cek", queue="4.2", url=peer.url)
    s = await gw.wait_for("a schedule", fetched("4.2"))
    assert status(s, "4.2", "today") == "emergency" and status(s, "4.2", "tomorrow") == "emergency"
    assert value(s, P + "day_published", **day("4.2", "today")) == 0
    assert value(s, P + "outage_active", queue="4.2") is None  # unknown, not "power on"
    assert value(s, P + "planned_outage_seconds", **day("4.2", "today")) is None
    assert source(s, "4.2") == 1  # the probable endpoint missing (404) costs only the template


async def test_yasno_window_over_midnight_on_the_dst_day(peer: OperatorPeer, run: Any) -> None:
    today, tomorrow = date(2026, 3, 28), date(2026, 3, 29)
    updated = datetime(2026, 3, 28, 9, 0, tzinfo=KYIV)
    group = yasno_group(
        yasno_day(today, "ScheduleApplies", [(1320, 1440)]),
        yasno_day(tomorrow, "ScheduleApplies", [(0, 300)]),
        updated,
    )
    peer.serve(yasno_path(25, 902), {"2.1": group, "2.2": group})
    gw = await run(at("2026-03-28T21:00"), operator="yasno-kyiv", queue="2.1", url=peer.url)
    s = await gw.wait_for("a schedule", fetched("2.1"))
    # 22:00 → 05:00 across midnight and the spring jump: 2 h + 4 h real time
    assert value(s, P + "next_outage_start_timestamp_seconds", queue="2.1") == kyiv(
        "2026-03-28T22:00"
    )
    end = value(s, P + "next_outage_end_timestamp_seconds", queue="2.1")
    assert end == kyiv("2026-03-29T05:00") == kyiv("2026-03-28T22:00") + 6 * HOUR
    assert value(s, P + "planned_outage_seconds", **day("2.1", "tomorrow")) == 4 * HOUR


async def test_dtek_mirror_real_capture_and_all_yes_tomorrow(peer: OperatorPeer, run: Any) -> None:
    peer.serve(MIRROR, load_json(FIX / "dtek_dnem_fact_2025-12-10.json"))
    url = peer.url + MIRROR
    gw = await run(at("2025-12-10T23:00"), operator="dtek-gpv", queue="1.1", url=url)
    s = await gw.wait_for("a schedule", fetched("1.1"))
    assert value(s, P + "outage_active", queue="1.1") == 1  # 22:30–24:00
    assert value(s, P + "planned_outage_seconds", **day("1.1", "today")) == 15.5 * HOUR
    assert status(s, "1.1", "tomorrow") == "waiting"  # all "yes": not published yet
    # The outage runs into a day that is not published: its end is today's 24:00, no guess.
    assert value(s, P + "next_outage_end_timestamp_seconds", queue="1.1") == kyiv(
        "2025-12-11T00:00"
    )


async def test_dtek_mirror_stale_data_is_no_data(peer: OperatorPeer, run: Any) -> None:
    peer.serve(MIRROR, load_json(FIX / "dtek_dnem_fact_2025-12-10.json"))
    clock = at("2025-12-10T10:00")
    gw = await run(
        clock, operator="dtek-gpv", queue="1.1", url=peer.url + MIRROR, data_max_age="6h"
    )
    s = await gw.wait_for("a schedule", fetched("1.1"))
    assert status(s, "1.1", "today") == "published"
    assert value(s, P + "data_stale", queue="1.1") == 0
    clock.set("2025-12-10T16:00")  # the mirror stopped updating at 07:24 UTC = 09:24 Kyiv
    s = await gw.wait_for("stale", lambda s: status(s, "1.1", "today") == "no_data")
    assert value(s, P + "outage_active", queue="1.1") is None
    assert value(s, P + "planned_outage_seconds", **day("1.1", "today")) is None
    assert value(s, P + "data_stale", queue="1.1") == 1


@pytest.mark.parametrize(
    ("mode", "reason", "words"),
    [("html", "payload", "bot wall"), ("forbidden", "forbidden", "mirror")],
)
async def test_dtek_mirror_bot_wall(
    peer: OperatorPeer, run: Any, mode: Any, reason: str, words: str
) -> None:
    peer.mode = mode
    gw = await run(at("2025-12-10T10:00"), operator="dtek-gpv", queue="1.1", url=peer.url + MIRROR)
    s = await gw.wait_for(
        "an error",
        lambda s: (
            (
                value(
                    s,
                    "gridwatch_source_errors_total",
                    source="outages",
                    device="1.1",
                    reason=reason,
                )
                or 0
            )
            > 0
        ),
    )
    assert source(s, "1.1") == 0
    assert words in (await api(gw))["source"]["error"]["message"]


async def test_dtek_offseason_is_no_data(peer: OperatorPeer, run: Any) -> None:
    peer.serve(MIRROR, load_json(FIX / "dtek_dnem_offseason_2026-08-21.json"))
    gw = await run(
        at("2026-08-22T10:00"),
        operator="dtek-gpv",
        queue="1.1",
        url=peer.url + MIRROR,
        data_max_age="100d",
    )
    s = await gw.wait_for("a schedule", fetched("1.1"))
    assert status(s, "1.1", "today") == "no_data" and status(s, "1.1", "tomorrow") == "no_data"
    assert value(s, P + "day_published", **day("1.1", "today")) == 0
    assert value(s, P + "outage_active", queue="1.1") is None


async def test_dtek_mirror_window_over_midnight(peer: OperatorPeer, run: Any) -> None:
    today, tomorrow = date(2025, 10, 25), date(2025, 10, 26)
    updated = datetime(2025, 10, 25, 8, 0, tzinfo=KYIV)
    payload = gpv_file(
        {
            today: {"3.1": {24: "second"}},
            tomorrow: {"3.1": {1: "no", 2: "no", 3: "no", 4: "no", 5: "first"}},
        },
        today,
        updated,
    )
    peer.serve(MIRROR, payload)
    gw = await run(at("2025-10-25T20:00"), operator="dtek-gpv", queue="3.1", url=peer.url + MIRROR)
    s = await gw.wait_for("a schedule", fetched("3.1"))
    # 23:30 → 04:30 over midnight into the 25-hour day (03:00–04:00 twice): 6 real hours
    start = value(s, P + "next_outage_start_timestamp_seconds", queue="3.1")
    end = value(s, P + "next_outage_end_timestamp_seconds", queue="3.1")
    assert start == kyiv("2025-10-25T23:30") and end is not None and end - start == 6 * HOUR


async def test_lvivoblenergo_text_schedule(peer: OperatorPeer, run: Any) -> None:
    today, tomorrow = date(2025, 12, 1), date(2025, 12, 2)
    as_of = datetime(2025, 12, 1, 9, 14, tzinfo=KYIV)
    texts = [
        loe_text(today, as_of, {"1.1": [("10:30", "12:30"), ("22:00", "24:00")], "2.1": []}),
        loe_text(tomorrow, as_of, {"1.1": [("00:00", "02:00")], "2.1": []}),
    ]
    peer.serve(LOE_MENUS, loe_menus(texts))
    gw = await run(at("2025-12-01T13:00"), operator="lvivoblenergo", queue="1.1", url=peer.url)
    s = await gw.wait_for("a schedule", fetched("1.1"))
    assert value(s, P + "next_outage_start_timestamp_seconds", queue="1.1") == kyiv(
        "2025-12-01T22:00"
    )
    assert value(s, P + "next_outage_end_timestamp_seconds", queue="1.1") == kyiv(
        "2025-12-02T02:00"
    )
    assert status(s, "1.1", "tomorrow") == "published"
    assert value(s, P + "planned_outage_seconds", **day("1.1", "today")) == 4 * HOUR


async def test_two_queues_of_two_operators(peer: OperatorPeer, run: Any, tmp_path: Path) -> None:
    """A household with two addresses: YASNO Kyiv 1.1 and a DTEK mirror 4.2, one exporter."""
    peer.serve(yasno_path(25, 902), load_json(FIX / "yasno_waiting_1.1_2025-12-13.json"))
    peer.serve(MIRROR, load_json(FIX / "dtek_dnem_fact_2025-12-10.json"))
    clock = at("2025-12-10T10:00")
    config = parse_config(
        {
            "site": {"timezone": "Europe/Kyiv", "data_dir": str(tmp_path)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "outages": [
                {"operator": "yasno-kyiv", "queue": "1.1", "url": peer.url, "interval": "0.1s"},
                {"operator": "dtek-gpv", "queue": "4.2", "url": peer.url + MIRROR,
                 "interval": "0.1s", "name": "parents"},
            ],
        }
    )  # fmt: skip
    exporter = Exporter(config, clock=clock)
    await exporter.start()
    try:
        gw = Running(exporter)
        s = await gw.wait_for("both", lambda s: fetched("1.1")(s) and fetched("4.2")(s))
        assert source(s, "1.1") == 1 and source(s, "parents") == 1
        # One family per name, a series per queue; the YASNO capture's days lie in the future.
        assert status(s, "4.2", "today") == "published"
        assert value(s, P + "outage_active", queue="4.2") == 1  # 09:00–12:00
        assert value(s, P + "next_outage_end_timestamp_seconds", queue="4.2") == kyiv(
            "2025-12-10T12:00"
        )
        assert value(s, P + "info", queue="1.1", operator="dtek-kem") == 1
        assert value(s, P + "info", queue="4.2", operator="dtek-gpv") == 1
        code, body, _ = await gw.get("/api/v1/outages?queue=parents")
        assert code == 200 and json.loads(body)["queue"] == "4.2"
        assert json.loads(body)["queues"] == ["1.1", "4.2"]
        code, body, _ = await gw.get("/api/v1/outages?queue=9.9")
        assert code == 404
        # The bot's /schedule lists both queues, each with its own days and states.
        text = await schedule_lines(exporter.url, clock)
        assert text.count("<b>📅 Outage schedule, queue 1.1</b>") == 1
        assert "<b>📅 Outage schedule, queue 4.2</b>" in text
        assert "  🔴 09:00–12:00 (3 h), now" in text
        assert "  ⏳ Waiting for the operator to confirm the schedule" in text  # 4.2 tomorrow
    finally:
        await exporter.stop()


async def test_battery_margin_for_possible_outages_is_kept_apart(
    peer: OperatorPeer, run: Any
) -> None:
    """Only a preliminary (WaitingForSchedule) outage lies ahead: no definite margin, so no
    alert; the margin against the preliminary 00:00–03:00 block is reported apart."""
    peer.serve(yasno_path(25, 902), load_json(FIX / "yasno_waiting_1.1_2025-12-13.json"))
    clock = at("2025-12-13T20:00")
    device = InverterDevice(load_shipped("smg_ii"), clock=clock)
    device.overrides = {"battery_soc": 50, "output_power": 500, "battery_power": -500}
    async with ModbusInverterServer(device) as inverter:
        smg = {
            "name": "smg",
            "transport": "tcp",
            "host": "127.0.0.1",
            "port": inverter.port,
            "interval": "0.1s",
            "timeout": "0.5s",
            "retries": 0,
            "battery_capacity_wh": 5120,
        }
        gw = await run(
            clock, {"inverters": [smg]}, operator="yasno-kyiv", queue="1.1", url=peer.url
        )
        s = await gw.wait_for(
            "the battery against the preliminary block",
            lambda s: value(s, "gridwatch_outage_battery_margin_possible_joules", queue="1.1")
            is not None,
        )  # fmt: skip
        energy = value(s, "gridwatch_outage_battery_energy_joules", queue="1.1")
        load = value(s, "gridwatch_outage_battery_load_watts", queue="1.1")
        assert energy is not None and load is not None
        margin = value(s, "gridwatch_outage_battery_margin_possible_joules", queue="1.1")
        assert margin == pytest.approx(energy - 3 * HOUR * load)
        assert value(s, "gridwatch_outage_battery_margin_joules", queue="1.1") is None


# Every real capture in ../shared, through `gridwatch run` against its simulator: what its
# sidecar (.source.txt) states. Skips when ../shared is absent; the project copies above keep
# the same checks in a plain clone.
REAL_CAPTURES = {
    "yasno_planned-outages_r25_dso902_group1.1_2025-12-13_tomorrow-WaitingForSchedule.json": (
        {"operator": "yasno-kyiv", "queue": "1.1"}, yasno_path(25, 902), "2025-12-13T12:00",
        {"today": ("no_outages", []), "tomorrow": ("waiting", [])},
    ),
    "yasno_planned-outages_r25_dso902_group1.1_2025-10-27_EmergencyShutdowns.json": (
        {"operator": "yasno-kyiv", "queue": "1.1"}, yasno_path(25, 902), "2025-10-27T10:00",
        {"today": ("emergency", None), "tomorrow": ("emergency", None)},
    ),
    "yasno_planned-outages_r3_dso303_CEK_group4.2_2025-12-23_EmergencyShutdowns.json": (
        {"operator": "yasno-dnipro-cek", "queue": "4.2"}, yasno_path(3, 303), "2025-12-23T10:00",
        {"today": ("emergency", None), "tomorrow": ("emergency", None)},
    ),
    "dtek_dnem_DisconSchedule.fact_2025-12-10_via_outage-data-ua.json": (
        {"operator": "dtek-gpv", "queue": "1.1"}, MIRROR, "2025-12-10T10:00",
        {"today": ("published", [("01:30", "08:30"), ("12:00", "19:00"), ("22:30", "24:00")]),
         "tomorrow": ("waiting", [])},
    ),
    "dtek_dnem_offseason_fact-empty_plus_preset-GPV1.1_2026-08-21_via_outage-data-ua.json": (
        {"operator": "dtek-gpv", "queue": "1.1"}, MIRROR, "2026-08-22T10:00",
        {"today": ("no_data", None), "tomorrow": ("no_data", None)},
    ),
    "oe-outage-data_Ternopiloblenerho_GPV-normalized_2025-12-31.json": (
        {"operator": "dtek-gpv", "queue": "1.1"}, MIRROR, "2025-12-31T10:00",
        {"today": ("published", [("08:00", "09:00"), ("23:00", "24:00")]),
         "tomorrow": ("no_data", None)},
    ),
}  # fmt: skip


def _real(name: str) -> Path | None:
    path = SHARED_FIXTURES / "ukraine-outages" / name
    return path if path.exists() else None


@pytest.mark.parametrize("name", sorted(REAL_CAPTURES))
async def test_real_captures_through_gridwatch_run(peer: OperatorPeer, run: Any, name: str) -> None:
    path = _real(name)
    if path is None:
        pytest.skip("../shared/fixtures not present")
    settings, route, instant, days = REAL_CAPTURES[name]
    peer.serve(route, load_json(path))
    url = peer.url + (MIRROR if route == MIRROR else "")
    queue = str(settings["queue"])
    gw = await run(at(instant), url=url, data_max_age="400d", **settings)
    await gw.wait_for("a schedule", fetched(queue))
    body = await api(gw)
    for label, (status, windows) in days.items():
        assert body[label]["status"] == status, (label, body[label])
        got = [(w["from"], w["to"]) for w in body[label].get("windows", [])] or None
        assert got == (windows or None), (label, body[label])


async def schedule_lines(exporter_url: str, clock: Clock) -> list[str]:
    receiver = parse_config(
        {"receiver": {"prometheus_url": "http://127.0.0.1:1", "exporter_url": exporter_url,
                      "alertmanager_url": "http://127.0.0.1:1"}}
    ).receiver  # fmt: skip
    assert receiver is not None
    peers = Peers(receiver, 5.0)
    try:
        ctx = Context(Catalog("en"), peers, None, KYIV, clock)
        return await schedule_text(ctx)
    finally:
        await peers.close()
