"""/schedule lines for every day status, per language, from the API's own day objects."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.config import parse_config
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.outage_text import day_lines
from gridwatch.receiver.telegram.queries import Peers
from gridwatch.receiver.telegram.templates import Catalog
from gridwatch.sim.outages.peers import gpv_file
from gridwatch.sources.outages.api import day_json
from gridwatch.sources.outages.providers import dtek_gpv, yasno
from gridwatch.sources.outages.schedule import KYIV, Schedule
from tests.helpers import PROJECT_FIXTURES, load_json

FIX = PROJECT_FIXTURES / "outages"


def context(language: Any) -> Context:
    receiver = parse_config(
        {"receiver": {"prometheus_url": "http://127.0.0.1:1", "exporter_url": "http://127.0.0.1:1",
                      "alertmanager_url": "http://127.0.0.1:1"}}
    ).receiver  # fmt: skip
    return Context(
        Catalog(language), Peers(receiver, 1.0), None, ZoneInfo("Europe/Kyiv"), time.time
    )


def lines(language: str, name: str, queue: str, day: date, parse: Any) -> list[str]:
    days = parse(load_json(FIX / name), queue)
    schedule = Schedule(0.0, queue, "x", KYIV, days)
    now = datetime(2025, 12, 1, tzinfo=KYIV)
    return day_lines(context(language), day_json(schedule, day, KYIV), now)


WAITING = ("yasno_waiting_1.1_2025-12-13.json", "1.1", date(2025, 12, 14), yasno.parse_planned)
EMERGENCY = (
    "yasno_emergency_cek_4.2_2025-12-23.json",
    "4.2",
    date(2025, 12, 23),
    yasno.parse_planned,
)
ALL_YES = ("dtek_dnem_fact_2025-12-10.json", "1.1", date(2025, 12, 11), dtek_gpv.parse_fact)


@pytest.mark.parametrize(
    ("language", "case", "expected"),
    [
        (
            "uk",
            WAITING,
            [
                "<b>📆 14.12.2025</b>",
                "  ⏳ Графік ще не затверджено",
                "  ◌ 00:00–03:00 (3г) - попередньо",
                "  ◌ 06:30–13:30 (7г) - попередньо",
                "  ◌ 17:00–20:30 (3г 30хв) - попередньо",
            ],
        ),
        (
            "en",
            WAITING,
            [
                "<b>📆 14.12.2025</b>",
                "  ⏳ Waiting for the operator to confirm the schedule",
                "  ◌ 00:00–03:00 (3 h), preliminary",
                "  ◌ 06:30–13:30 (7 h), preliminary",
                "  ◌ 17:00–20:30 (3 h 30 min), preliminary",
            ],
        ),
        (
            "sv",
            WAITING,
            [
                "<b>📆 14.12.2025</b>",
                "  ⏳ Väntar på att nätbolaget bekräftar schemat",
                "  ◌ 00:00–03:00 (3 h), preliminärt",
                "  ◌ 06:30–13:30 (7 h), preliminärt",
                "  ◌ 17:00–20:30 (3 h 30 min), preliminärt",
            ],
        ),
        (
            "en",
            EMERGENCY,
            [
                "<b>📆 23.12.2025</b>",
                "  🚨 Emergency outages: the schedule is suspended, power can go any time",
            ],
        ),
        (
            "uk",
            EMERGENCY,
            [
                "<b>📆 23.12.2025</b>",
                "  🚨 Аварійні відключення: графік не діє, світла може не бути будь-коли",
            ],
        ),
        (
            "sv",
            EMERGENCY,
            [
                "<b>📆 23.12.2025</b>",
                "  🚨 Nödavbrott: schemat gäller inte, strömmen kan brytas när som helst",
            ],
        ),
        (
            "en",
            ALL_YES,
            ["<b>📆 11.12.2025</b>", "  ⏳ Waiting for the operator to confirm the schedule"],
        ),
        ("uk", ALL_YES, ["<b>📆 11.12.2025</b>", "  ⏳ Графік ще не затверджено"]),
    ],
)
def test_day_states_per_language(language: str, case: Any, expected: list[str]) -> None:
    # Preliminary windows are listed as such, never as "⏰" (coming) or "🔴" (now).
    assert lines(language, *case) == expected


def test_possible_windows_are_marked_per_language() -> None:
    payload = load_json(FIX / "dtek_dnem_offseason_2026-08-21.json")
    monday = date(2026, 8, 24)
    fact = gpv_file({monday: {"1.1": {20: "no"}}}, monday, datetime(2026, 8, 24, tzinfo=KYIV))
    payload["fact"] = fact["fact"]
    schedule = Schedule(0.0, "1.1", "x", KYIV, dtek_gpv.parse_fact(payload, "1.1"))
    texts = {
        lang: day_lines(context(lang), day_json(schedule, monday, KYIV), None)
        for lang in ("en", "uk", "sv")
    }
    assert texts["en"] == [
        "<b>📆 24.08.2026 (in total 1 h)</b>",
        "  ⏰ 19:00–20:00 (1 h)",
        "  ❓ 00:00–04:00 (4 h), possible",
        "  ❓ 07:30–14:30 (7 h), possible",
        "  ❓ 18:00–24:00 (6 h), possible",
    ]
    assert texts["uk"][2] == "  ❓ 00:00–04:00 (4г) - можливе відключення"
    assert texts["sv"][2] == "  ❓ 00:00–04:00 (4 h), möjligt avbrott"
