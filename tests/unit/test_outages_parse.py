"""be-svitlo answers → published days and windows: `[]` at each level, midnight, DST, garbage."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridwatch.sources.outages.providers.be_svitlo import parse_queue_list, parse_schedule
from gridwatch.sources.outages.schedule import ScheduleFormatError
from tests.helpers import PROJECT_FIXTURES, load_json, shared_fixture_files, shared_or_skip

pytestmark = pytest.mark.clock

FIX = PROJECT_FIXTURES / "outages"
HOUR = 3600.0


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def fixture(name: str) -> Any:
    return load_json(FIX / name)


def test_real_queue_list_has_the_twelve_queues() -> None:
    codes = parse_queue_list(fixture("queue_list.json"))
    assert codes == {f"{q}.{s}" for q in range(1, 7) for s in (1, 2)}


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("outages", "*queue-list*.json"))
)
def test_shared_queue_list_parses(path: Path) -> None:
    assert "5.2" in parse_queue_list(load_json(path))


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("outages", "*schedule-by-queue*.json"))
)
def test_shared_schedules_parse(path: Path) -> None:
    payload = load_json(path)
    days = parse_schedule(payload, "4.2")
    assert len(days) == len(payload)  # every element of the captures carries queue 4.2
    for day in days.values():
        assert all(w.end > w.start for w in day.windows)


def test_inseason_capture_is_kyiv_winter_time() -> None:
    days = parse_schedule(fixture("inseason_4.2_2025-11-25.json"), "4.2")
    day = days[date(2025, 11, 25)]
    (window,) = day.windows
    assert window.start == utc("2025-11-25T14:30")  # 16:30 at UTC+2
    assert window.end == utc("2025-11-25T18:00")
    assert day.planned_seconds == 3.5 * HOUR
    assert day.approved_at == utc("2025-11-24T17:52")  # 19:52 Kyiv


def test_offseason_empty_answer_publishes_nothing() -> None:
    assert parse_schedule(fixture("offseason_empty.json"), "5.2") == {}


def test_several_windows_sorted_and_no_outage_day_is_published() -> None:
    days = parse_schedule(fixture("several_windows_5.2_2026-11-20.json"), "5.2")
    today = days[date(2026, 11, 20)]
    assert [(w.start_text, w.end_text) for w in today.windows] == [
        ("00:00", "02:30"),
        ("09:00", "12:00"),
        ("18:00", "21:30"),
    ]
    assert today.planned_seconds == 9 * HOUR
    tomorrow = days[date(2026, 11, 21)]  # queues["5.2"] == [] → published, no outages
    assert tomorrow.windows == ()
    assert tomorrow.planned_seconds == 0


def test_element_without_the_queue_is_not_published() -> None:
    days = parse_schedule(fixture("duplicate_day_5.2_2026-11-20.json"), "5.2")
    assert date(2026, 11, 21) not in days  # element exists, but only for queue 4.1


def test_duplicate_date_takes_the_latest_approval() -> None:
    days = parse_schedule(fixture("duplicate_day_5.2_2026-11-20.json"), "5.2")
    (window,) = days[date(2026, 11, 20)].windows
    assert (window.start_text, window.end_text) == ("10:00", "12:00")


def test_windows_past_midnight() -> None:
    days = parse_schedule(fixture("over_midnight_5.2_2026-11-20.json"), "5.2")
    (late,) = days[date(2026, 11, 20)].windows
    assert late.start == utc("2026-11-20T20:00")
    assert late.end == utc("2026-11-20T22:00")  # 00:00 as an end is the next midnight
    assert late.seconds == 2 * HOUR
    wrapped = days[date(2026, 11, 21)].windows[1]
    assert (wrapped.start_text, wrapped.end_text) == ("23:00", "01:00")
    assert wrapped.end == utc("2026-11-21T23:00")  # 01:00 on the 22nd, UTC+2
    assert days[date(2026, 11, 21)].planned_seconds == 4 * HOUR


@pytest.mark.parametrize(
    ("name", "day", "start_utc"),
    [
        ("summer_5.2_2026-07-15.json", date(2026, 7, 15), "2026-07-15T11:00"),  # UTC+3
        ("winter_5.2_2026-01-15.json", date(2026, 1, 15), "2026-01-15T12:00"),  # UTC+2
    ],
)
def test_summer_and_winter_offsets(name: str, day: date, start_utc: str) -> None:
    (window,) = parse_schedule(fixture(name), "5.2")[day].windows
    assert window.start == utc(start_utc)
    assert window.seconds == 4 * HOUR


def test_spring_dst_day_has_23_hours() -> None:
    day = parse_schedule(fixture("dst_spring_5.2_2026-03-29.json"), "5.2")[date(2026, 3, 29)]
    assert day.planned_seconds == 23 * HOUR
    assert day.windows[0].start == utc("2026-03-28T22:00")
    assert day.windows[0].end == utc("2026-03-29T21:00")


def test_autumn_dst_day_has_25_hours() -> None:
    day = parse_schedule(fixture("dst_autumn_5.2_2026-10-25.json"), "5.2")[date(2026, 10, 25)]
    night, evening = day.windows
    assert night.seconds == 4 * HOUR  # 02:00–05:00 spans the repeated hour 03:00–04:00
    assert evening.seconds == 4 * HOUR
    assert evening.end == utc("2026-10-25T22:00")  # midnight at UTC+2 again


def test_skipped_hour_on_spring_day() -> None:
    payload = [
        {
            "eventDate": "29.03.2026",
            "queues": {"5.2": [{"from": "02:00", "to": "05:00", "status": 1}]},
        }
    ]
    (window,) = parse_schedule(payload, "5.2")[date(2026, 3, 29)].windows
    assert window.seconds == 2 * HOUR  # 03:00–04:00 does not exist that night


def test_status_zero_is_not_an_outage_and_shutdown_hours_is_a_fallback() -> None:
    payload = [
        {
            "eventDate": "20.11.2026",
            "queues": {
                "5.2": [
                    {"from": "08:00", "to": "10:00", "status": 0},
                    {"shutdownHours": "12:00-13:30", "status": 1},
                ]
            },
        }
    ]
    (window,) = parse_schedule(payload, "5.2")[date(2026, 11, 20)].windows
    assert (window.start_text, window.end_text) == ("12:00", "13:30")


@pytest.mark.parametrize(
    "name", ["garbage_bad_time.json", "garbage_bad_date.json", "garbage_not_a_list.json"]
)
def test_garbage_is_a_format_error(name: str) -> None:
    with pytest.raises(ScheduleFormatError):
        parse_schedule(fixture(name), "5.2")


@pytest.mark.parametrize(
    "payload",
    [
        [{"eventDate": "20.11.2026", "queues": {"5.2": [{"from": "24:00", "to": "02:00"}]}}],
        [{"eventDate": "20.11.2026", "queues": {"5.2": [{"from": "10:00"}]}}],
        [{"eventDate": "20.11.2026", "queues": {"5.2": {"from": "10:00"}}}],
        [{"eventDate": "31.02.2026", "queues": {"5.2": []}}],
        [{"eventDate": "20.11.2026", "queues": []}],
        ["20.11.2026"],
    ],
)
def test_malformed_shapes_are_format_errors(payload: object) -> None:
    with pytest.raises(ScheduleFormatError):
        parse_schedule(payload, "5.2")


@pytest.mark.parametrize("payload", [[], {}, [{"id": 1}], [{"code": ""}], "1.1"])
def test_malformed_queue_lists(payload: object) -> None:
    with pytest.raises(ScheduleFormatError):
        parse_queue_list(payload)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_element = st.fixed_dictionaries(
    {
        "eventDate": st.sampled_from(["20.11.2026", "29.03.2026", "x", "32.01.2026"]),
        "queues": st.dictionaries(
            st.sampled_from(["5.2", "4.1"]),
            st.lists(
                st.fixed_dictionaries(
                    {
                        "from": st.sampled_from(["00:00", "23:30", "24:00", "7:5", "03:30", ""]),
                        "to": st.sampled_from(["00:00", "24:00", "02:00", "03:00", "99:99"]),
                    }
                ),
                max_size=3,
            ),
        ),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json, st.lists(_element, max_size=3)))
def test_any_answer_parses_or_is_a_format_error(payload: object) -> None:
    try:
        days = parse_schedule(json.loads(json.dumps(payload)), "5.2")
    except ScheduleFormatError:
        return
    for day in days.values():
        assert all(w.end > w.start for w in day.windows)
