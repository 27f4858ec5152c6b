"""YASNO, DTEK-format GPV and Lvivoblenergo answers → normalised days (status, windows, cells)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridwatch.sim.outages.peers import gpv_file, loe_menus, loe_text
from gridwatch.sources.outages.providers import dtek_gpv, lvivoblenergo, yasno
from gridwatch.sources.outages.schedule import (
    KYIV,
    Cell,
    DaySchedule,
    DayStatus,
    ScheduleFormatError,
)
from gridwatch.sources.outages.source import expire
from tests.helpers import PROJECT_FIXTURES, SHARED_FIXTURES, load_json, shared_or_skip

pytestmark = pytest.mark.clock

FIX = PROJECT_FIXTURES / "outages"
REAL = SHARED_FIXTURES / "ukraine-outages"
HOUR = 3600.0


def spans(windows: Any) -> list[tuple[str, str]]:
    return [(w.start_text, w.end_text) for w in windows]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KYIV)


# YASNO -----------------------------------------------------------------------------------------


def test_yasno_waiting_tomorrow_is_preliminary_not_a_schedule() -> None:
    days = yasno.parse_planned(load_json(FIX / "yasno_waiting_1.1_2025-12-13.json"), "1.1")
    today, tomorrow = days[date(2025, 12, 13)], days[date(2025, 12, 14)]
    assert today.state is DayStatus.NO_OUTAGES and today.windows == ()
    assert set(today.cells(KYIV)) == {Cell.ON}
    assert tomorrow.state is DayStatus.WAITING and not tomorrow.known
    assert tomorrow.windows == ()  # never definite: not alerted on
    assert spans(tomorrow.preliminary) == [
        ("00:00", "03:00"),
        ("06:30", "13:30"),
        ("17:00", "20:30"),
    ]
    cells = tomorrow.cells(KYIV)
    assert cells[0] is Cell.POSSIBLE and cells[6] is Cell.UNKNOWN and len(cells) == 48
    assert today.approved_at == datetime.fromisoformat("2025-12-13T09:32:37+00:00").timestamp()


def test_yasno_emergency_is_its_own_state() -> None:
    days = yasno.parse_planned(load_json(FIX / "yasno_emergency_cek_4.2_2025-12-23.json"), "4.2")
    assert [d.state for d in days.values()] == [DayStatus.EMERGENCY, DayStatus.EMERGENCY]
    assert all(set(d.cells(KYIV)) == {Cell.UNKNOWN} for d in days.values())
    assert (
        yasno.parse_planned(load_json(FIX / "yasno_emergency_cek_4.2_2025-12-23.json"), "1.1") == {}
    )


@pytest.mark.parametrize(
    "path",
    shared_or_skip(sorted(REAL.glob("yasno_planned-outages_*.json")) if REAL.is_dir() else []),
)
def test_real_yasno_captures_decode(path: Path) -> None:
    payload = load_json(path)
    (group,) = payload
    days = yasno.parse_planned(payload, group)
    expected = "EmergencyShutdowns" in path.name
    assert len(days) == 2
    assert all((d.state is DayStatus.EMERGENCY) == expected for d in days.values())


def test_yasno_probable_template_is_possible_on_its_weekday() -> None:
    week = yasno.parse_probable(
        {"25": {"dsos": {"902": {"groups": {"3.1": {"slots": {
            "0": [{"start": 480, "end": 720, "type": "Definite"}], "1": [], "6": []}}}}}}},
        25, 902, "3.1",
    )  # fmt: skip
    monday = date(2025, 12, 15)
    day = yasno.parse_day(yasno_day_json(monday, "ScheduleApplies", [(1200, 1260)]), KYIV, None)
    (entry,) = yasno.with_template({monday: day}, week, KYIV).values()
    assert spans(entry.windows) == [("20:00", "21:00")]
    assert spans(entry.possible) == [("08:00", "12:00")]
    assert entry.possible_seconds == 4 * HOUR and entry.planned_seconds == HOUR
    assert entry.cells(KYIV)[16] is Cell.POSSIBLE and entry.cells(KYIV)[40] is Cell.OFF


def test_real_yasno_probable_shape() -> None:
    path = REAL / "SYNTHETIC_yasno_probable-outages_shape_from_ha-yasno-outages_tests.json"
    if not path.exists():
        pytest.skip("../shared/fixtures not present")
    week = yasno.parse_probable(load_json(path), 25, 902, "3.1")
    assert week[0] == [(480, 720)] and week[1] == [(600, 900)] and week[2] == []


def yasno_day_json(day: date, status: str, definite: list[tuple[int, int]]) -> dict[str, Any]:
    from gridwatch.sim.outages.peers import yasno_day

    return yasno_day(day, status, definite)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"date": "2025-12-14T00:00:00+02:00", "status": "Maybe", "slots": []}, "unknown status"),
        ({"date": "x", "status": "ScheduleApplies", "slots": []}, "ISO"),
        (
            {"date": "2025-12-14T00:00:00+02:00", "status": "ScheduleApplies",
             "slots": [{"start": 0, "end": 1500, "type": "Definite"}]},
            "0..1440",
        ),
        (
            {"date": "2025-12-14T00:00:00+02:00", "status": "ScheduleApplies",
             "slots": [{"start": 0, "end": 60, "type": "Probable"}]},
            "slot type",
        ),
    ],
)  # fmt: skip
def test_yasno_rejects_what_it_does_not_know(raw: dict[str, Any], error: str) -> None:
    with pytest.raises(ScheduleFormatError, match=error):
        yasno.parse_day(raw, KYIV, None)


def test_yasno_dst_days_come_from_the_local_date() -> None:
    spring = yasno.parse_day(
        yasno_day_json(date(2026, 3, 29), "ScheduleApplies", [(0, 1440)]), KYIV, None
    )
    autumn = yasno.parse_day(
        yasno_day_json(date(2025, 10, 26), "ScheduleApplies", [(0, 1440)]), KYIV, None
    )
    assert spring.planned_seconds == 23 * HOUR and autumn.planned_seconds == 25 * HOUR
    assert len(spring.cells(KYIV)) == 48 and set(spring.cells(KYIV)) == {Cell.OFF}


# DTEK GPV ------------------------------------------------------------------------------------

FACT = FIX / "dtek_dnem_fact_2025-12-10.json"


def test_dtek_fact_decodes_per_half_hour() -> None:
    days = dtek_gpv.parse_fact(load_json(FACT), "1.1")
    today = days[date(2025, 12, 10)]
    assert today.state is DayStatus.PUBLISHED
    assert spans(today.windows) == [("01:30", "08:30"), ("12:00", "19:00"), ("22:30", "24:00")]
    four = dtek_gpv.parse_fact(load_json(FACT), "4.2")[date(2025, 12, 10)]
    # "first" inside a run of "no": power back only 08:30–09:00
    assert spans(four.windows) == [
        ("00:00", "01:30"), ("05:00", "08:30"), ("09:00", "12:00"), ("15:30", "19:00")
    ]  # fmt: skip
    assert four.cells(KYIV)[16:19] == (Cell.OFF, Cell.ON, Cell.OFF)


def test_dtek_all_yes_tomorrow_is_waiting_not_no_outages() -> None:
    tomorrow = dtek_gpv.parse_fact(load_json(FACT), "1.1")[date(2025, 12, 11)]
    assert tomorrow.state is DayStatus.WAITING and not tomorrow.known
    assert set(tomorrow.cells(KYIV)) == {Cell.UNKNOWN}


def test_dtek_offseason_empty_array_is_no_data() -> None:
    payload = load_json(FIX / "dtek_dnem_offseason_2026-08-21.json")
    assert dtek_gpv.parse_fact(payload, "1.1") == {}
    assert "1.1" in dtek_gpv.parse_groups(payload)


def test_dtek_preset_adds_possible_half_hours() -> None:
    payload = load_json(FIX / "dtek_dnem_offseason_2026-08-21.json")
    monday = date(2026, 8, 24)
    payload["fact"] = gpv_file({monday: {"1.1": {20: "no"}}}, monday, at("2026-08-24T08:00"))[
        "fact"
    ]
    entry = dtek_gpv.parse_fact(payload, "1.1")[monday]
    assert spans(entry.windows) == [("19:00", "20:00")]
    # preset Monday: maybe 00–04, msecond 07:30, maybe 08–14, mfirst 14:00–14:30, maybe 18–24
    assert spans(entry.possible) == [("00:00", "04:00"), ("07:30", "14:30"), ("18:00", "24:00")]
    assert entry.possible_seconds == (4 + 7 + 5) * HOUR  # 19–20 is definite, not possible


def test_ternopil_converted_file_has_possible_borders() -> None:
    path = REAL / "oe-outage-data_Ternopiloblenerho_GPV-normalized_2025-12-31.json"
    if not path.exists():
        pytest.skip("../shared/fixtures not present")
    day = dtek_gpv.parse_fact(load_json(path), "1.1")[date(2025, 12, 31)]
    assert spans(day.windows) == [("08:00", "09:00"), ("23:00", "24:00")]
    assert spans(day.possible) == [("07:30", "08:00"), ("09:00", "09:30"), ("22:00", "22:30")]
    assert (
        dtek_gpv.parse_fact(load_json(path), "3.1")[date(2025, 12, 31)].state
        is DayStatus.NO_OUTAGES
    )


def test_dtek_partial_day_is_no_data_and_dst_days_are_real_lengths() -> None:
    spring, autumn = date(2026, 3, 29), date(2025, 10, 26)
    payload = gpv_file(
        {spring: {"1.1": {n: "no" for n in range(3, 6)}}}, spring, at("2026-03-29T01:00")
    )
    assert dtek_gpv.parse_fact(payload, "1.1")[spring].planned_seconds == 2 * HOUR  # 02–05
    payload = gpv_file(
        {autumn: {"1.1": {n: "no" for n in range(3, 6)}}}, autumn, at("2025-10-26T01:00")
    )
    assert dtek_gpv.parse_fact(payload, "1.1")[autumn].planned_seconds == 4 * HOUR
    fact: Any = payload["fact"]
    del next(iter(fact["data"].values()))["GPV1.1"]["7"]
    assert dtek_gpv.parse_fact(payload, "1.1")[autumn].state is DayStatus.NO_DATA


def test_dtek_rejects_unknown_values_and_bad_day_keys() -> None:
    day = date(2025, 12, 10)
    payload = gpv_file({day: {"1.1": {3: "perhaps"}}}, day, at("2025-12-10T08:00"))
    with pytest.raises(ScheduleFormatError, match="unknown value 'perhaps'"):
        dtek_gpv.parse_fact(payload, "1.1")
    payload = gpv_file({day: {"1.1": {}}}, day, at("2025-12-10T08:00"))
    fact: Any = payload["fact"]
    fact["data"] = {"1765317601": fact["data"].popitem()[1]}
    with pytest.raises(ScheduleFormatError, match="not a local midnight"):
        dtek_gpv.parse_fact(payload, "1.1")


def test_stale_data_becomes_no_data() -> None:
    days = dtek_gpv.parse_fact(load_json(FACT), "1.1")
    updated = datetime.fromisoformat("2025-12-10T07:24:38.105+00:00").timestamp()
    fresh = expire(days, updated + 3600, 2 * 86400)
    assert fresh[date(2025, 12, 10)].state is DayStatus.PUBLISHED
    stale = expire(days, updated + 3 * 86400, 2 * 86400)
    assert {d.state for d in stale.values()} == {DayStatus.NO_DATA}
    assert all(d.windows == () for d in stale.values())


# Lvivoblenergo -------------------------------------------------------------------------------


def test_lvivoblenergo_text_decodes() -> None:
    day = date(2025, 12, 1)
    text = loe_text(
        day, at("2025-12-01T09:14"), {"1.1": [("10:30", "12:30"), ("19:30", "24:00")], "2.1": []}
    )
    for hydra in (True, False):
        menus = lvivoblenergo.parse_menus(loe_menus([text, "<p>image only</p>"], hydra=hydra))
        groups = menus[day]
        assert spans(groups["1.1"].windows) == [("10:30", "12:30"), ("19:30", "24:00")]
        assert groups["2.1"].state is DayStatus.NO_OUTAGES
        assert "3.1" not in groups  # not named: no data
        assert groups["1.1"].approved_at == at("2025-12-01T09:14").timestamp()


def test_lvivoblenergo_crossing_midnight_and_new_wording() -> None:
    day = date(2026, 3, 28)
    text = loe_text(day, at("2026-03-28T08:00"), {"1.1": [("22:00", "04:00")]})
    (entry,) = lvivoblenergo.parse_menus(loe_menus([text]))[day].values()
    assert entry.planned_seconds == 5 * HOUR  # past midnight into the 23-hour day
    assert spans(entry.windows) == [("22:00", "04:00")]
    autumn = date(2025, 10, 26)
    text_autumn = loe_text(autumn, at("2025-10-26T08:00"), {"1.1": [("02:00", "05:00")]})
    (long_day,) = lvivoblenergo.parse_menus(loe_menus([text_autumn]))[autumn].values()
    assert long_day.planned_seconds == 4 * HOUR  # 03:00–04:00 happens twice
    odd = text.replace("Електроенергії немає", "Можливі відключення")
    with pytest.raises(ScheduleFormatError, match="unknown wording"):
        lvivoblenergo.parse_menus(loe_menus([odd]))


# every parser: arbitrary JSON is a result or a ScheduleFormatError, never a crash -------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(payload=JSON)
def test_parsers_never_crash(payload: object) -> None:
    for parse in (
        lambda: yasno.parse_planned(payload, "1.1"),
        lambda: yasno.parse_groups(payload),
        lambda: yasno.parse_probable(payload, 25, 902, "1.1"),
        lambda: dtek_gpv.parse_fact(payload, "1.1"),
        lambda: dtek_gpv.parse_groups(payload),
        lambda: lvivoblenergo.parse_menus(payload),
    ):
        try:
            result = parse()
        except ScheduleFormatError:
            continue
        assert isinstance(result, dict | frozenset)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.sampled_from(sorted(dtek_gpv.VALUES)), min_size=24, max_size=24))
def test_gpv_cells_match_the_values(values: list[str]) -> None:
    day = date(2025, 12, 10)
    payload = gpv_file({day: {"1.1": dict(enumerate(values, 1))}}, day, at("2025-12-10T08:00"))
    entry: DaySchedule = dtek_gpv.parse_fact(payload, "1.1")[day]
    cells = entry.cells(KYIV)
    for hour, value in enumerate(values):
        for half in (0, 1):
            state = dtek_gpv.VALUES[value][half]
            want = {"off": Cell.OFF, "possible": Cell.POSSIBLE, None: Cell.ON}[state]
            if entry.state is DayStatus.WAITING:
                want = Cell.UNKNOWN
            assert cells[hour * 2 + half] is want


def test_changes_count_the_normalised_day_and_definite_ones_apart(tmp_path: Path) -> None:
    from gridwatch.core.statedb import StateDB
    from gridwatch.sources.outages.schedule import Schedule
    from gridwatch.sources.outages.tracker import ScheduleTracker

    db = StateDB(tmp_path / "gridwatch.db")

    def tracker() -> ScheduleTracker:
        return ScheduleTracker(
            device="1.1", queue="1.1", operator="dtek-gpv", tz=KYIV, stale_after=1e9, db=lambda: db
        )

    first = tracker()
    payload = load_json(FACT)
    t0 = at("2025-12-10T10:00").timestamp()

    def download(t: float, data: Any) -> list[date]:
        return first.update(Schedule(t, "1.1", "dtek-gpv", KYIV, dtek_gpv.parse_fact(data, "1.1")))

    assert download(t0, payload) == []
    assert download(t0 + 600, payload) == []  # the same schedule sent again: no change
    hours = payload["fact"]["data"]["1765317600"]["GPV1.1"]
    hours["21"] = "maybe"  # a possible hour only
    assert download(t0 + 1200, payload) == [date(2025, 12, 10)]
    assert (first.changes, first.definite_changes) == (1, 0)
    hours["21"] = "no"  # a definite one
    assert download(t0 + 1800, payload) == [date(2025, 12, 10)]
    assert (first.changes, first.definite_changes) == (2, 1)
    restarted = tracker()  # counters and the day's status, cells and windows survive a restart
    assert (restarted.changes, restarted.definite_changes) == (2, 1)
    assert restarted.latest is not None and first.latest is not None
    day = date(2025, 12, 10)
    assert restarted.latest.days[day].cells(KYIV) == first.latest.days[day].cells(KYIV)
    assert restarted.latest.days[date(2025, 12, 11)].state is DayStatus.WAITING
    db.close()


WORDS = st.sampled_from(
    ["Група", "1.1.", "2.2.", "Електроенергії", "немає", "Електроенергія", "є.", "з", "до",
     "10:30", "24:00", "07:00", ",", "Графік погодинних відключень на", "01.12.2025",
     "31.02.2025", "Інформація станом на", "09:14", "<br>", "<p>", "</p>", "&nbsp;", "\n"]
)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(words=st.lists(WORDS, max_size=30))
def test_lvivoblenergo_text_never_crashes(words: list[str]) -> None:
    text = "Графік погодинних відключень на 01.12.2025\n" + " ".join(words)
    try:
        parsed = lvivoblenergo.parse_text(text)
    except ScheduleFormatError:
        return
    assert parsed is not None
    for entry in parsed[2].values():
        assert entry.state in (DayStatus.PUBLISHED, DayStatus.NO_OUTAGES)
        assert all(w.end > w.start for w in entry.windows)


@pytest.mark.parametrize("as_of", ["станом на 10:00 31.02.2025", "станом на 25:61 01.12.2025"])
def test_lvivoblenergo_impossible_as_of_time_is_a_format_error(as_of: str) -> None:
    text = f"Графік погодинних відключень на 01.12.2025\n{as_of}\nГрупа 1.1. Електроенергія є."
    with pytest.raises(ScheduleFormatError, match="is not a time"):
        lvivoblenergo.parse_text(text)
