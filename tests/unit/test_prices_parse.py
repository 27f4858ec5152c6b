"""Price payloads → quarter slots: real captures, DST days, hourly days, and bad payloads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridwatch.core.source import SourceError
from gridwatch.sources.prices import elprisetjustnu, nordpool
from gridwatch.sources.prices.analysis import slot_labels
from gridwatch.sources.prices.http import NotPublishedError
from gridwatch.sources.prices.slots import day_bounds, hourly_means, quarters_in_day
from tests.helpers import PROJECT_FIXTURES, load_json, shared_fixture_files, shared_or_skip

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")
OWN = PROJECT_FIXTURES / "prices"


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


@pytest.mark.parametrize(
    ("day", "quarters"),
    [
        (dt.date(2025, 3, 30), 92),
        (dt.date(2025, 10, 26), 100),
        (dt.date(2026, 3, 29), 92),
        (dt.date(2026, 10, 25), 100),
        (dt.date(2026, 11, 22), 96),
    ],
)
def test_local_days_have_92_96_or_100_quarters(day: dt.date, quarters: int) -> None:
    assert quarters_in_day(day, STHLM) == quarters


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("prices", "elprisetjustnu_*.json"))
)
def test_real_elprisetjustnu_hourly_day_expands_to_quarters(path: Path) -> None:
    day = elprisetjustnu.parse_day(
        load_json(path), dt.date(2025, 9, 4), STHLM, area="SE3", currency="SEK"
    )
    assert len(day) == 96
    assert day.spot[:5] == (0.12229, 0.12229, 0.12229, 0.12229, 0.09886)
    assert _utc(day.starts[0]) == "2025-09-03T22:00Z"  # local midnight, +02:00


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("prices", "nordpool_DayAheadPriceIndices_*.json"))
)
def test_real_nordpool_quarters_in_sek_per_mwh(path: Path) -> None:
    day = nordpool.parse_day(
        [load_json(path)], dt.date(2025, 10, 1), STHLM, area="SE3", currency="SEK"
    )
    assert len(day) == 96
    assert day.spot[0] == pytest.approx(0.55668)  # 556.68 SEK/MWh
    assert day.spot[-1] == pytest.approx(0.78568)
    assert _utc(day.starts[0]) == "2025-09-30T22:00Z"


@pytest.mark.parametrize(
    "path", shared_or_skip(shared_fixture_files("prices", "nordpool_DayAheadPrices_*.json"))
)
def test_real_nordpool_hourly_eur_prices(path: Path) -> None:
    day = nordpool.parse_day(
        [load_json(path)], dt.date(2024, 11, 5), STHLM, area="SE3", currency="EUR"
    )
    assert len(day) == 96
    assert day.spot[:4] == pytest.approx([0.02154] * 4)
    with pytest.raises(SourceError, match="prices in EUR, expected SEK"):
        nordpool.parse_day(
            [load_json(path)], dt.date(2024, 11, 5), STHLM, area="SE3", currency="SEK"
        )


def test_spring_dst_day_has_no_two_oclock() -> None:
    rows = load_json(OWN / "elprisetjustnu_SE3_2026-03-29_PT15M_92slots.json")
    day = elprisetjustnu.parse_day(rows, dt.date(2026, 3, 29), STHLM, area="SE3", currency="SEK")
    labels = slot_labels(day.starts, STHLM)
    assert len(day) == 92
    assert labels[7:9] == ["01:45", "03:00"]
    assert day.starts[8] - day.starts[7] == 900  # 15 min apart in absolute time
    assert len(set(labels)) == 92


def test_autumn_dst_day_keeps_both_two_oclock_hours() -> None:
    rows = load_json(OWN / "elprisetjustnu_SE3_2025-10-26_PT15M_100slots.json")
    day = elprisetjustnu.parse_day(rows, dt.date(2025, 10, 26), STHLM, area="SE3", currency="SEK")
    labels = slot_labels(day.starts, STHLM)
    assert len(day) == 100 and len(set(labels)) == 100
    assert labels[8:17] == [
        "02:00", "02:15", "02:30", "02:45", "02:00b", "02:15b", "02:30b", "02:45b", "03:00",
    ]  # fmt: skip
    assert [_utc(t) for t in (day.starts[8], day.starts[12])] == [
        "2025-10-26T00:00Z",
        "2025-10-26T01:00Z",
    ]
    assert day.spot[12] == rows[12]["SEK_per_kWh"]  # keyed by absolute time, not by HH:MM


def test_nordpool_autumn_day_matches_local_day() -> None:
    body = load_json(OWN / "nordpool_DayAheadPriceIndices_SE3_2025-10-26_PT15M_SEK_100slots.json")
    day = nordpool.parse_day([body], dt.date(2025, 10, 26), STHLM, area="SE3", currency="SEK")
    assert len(day) == 100
    assert (day.starts[0], day.starts[-1] + 900) == day_bounds(dt.date(2025, 10, 26), STHLM)


def test_hourly_day_is_expanded_and_negative_prices_are_kept() -> None:
    hourly = load_json(OWN / "elprisetjustnu_SE3_2025-09-20_PT60M_hourly.json")
    day = elprisetjustnu.parse_day(hourly, dt.date(2025, 9, 20), STHLM, area="SE3", currency="SEK")
    assert len(hourly) == 24 and len(day) == 96
    assert day.spot[4:8] == (hourly[1]["SEK_per_kWh"],) * 4
    negative = load_json(OWN / "elprisetjustnu_SE3_2026-06-03_PT15M_negative.json")
    day = elprisetjustnu.parse_day(negative, dt.date(2026, 6, 3), STHLM, area="SE3", currency="SEK")
    assert min(day.spot) < 0
    assert min(day.spot) == min(r["SEK_per_kWh"] for r in negative)


def test_hourly_contract_price_is_the_mean_of_the_hours_quarters() -> None:
    rows = load_json(OWN / "elprisetjustnu_SE3_2025-10-26_PT15M_100slots.json")
    day = elprisetjustnu.parse_day(rows, dt.date(2025, 10, 26), STHLM, area="SE3", currency="SEK")
    means = hourly_means(day.starts, day.spot, STHLM)
    assert len(means) == 100
    assert means[0] == pytest.approx(sum(day.spot[0:4]) / 4)
    # The two 02:00 hours of the autumn day are different hours with their own means.
    assert means[8] == pytest.approx(sum(day.spot[8:12]) / 4)
    assert means[12] == pytest.approx(sum(day.spot[12:16]) / 4)


def test_incomplete_day_is_rejected() -> None:
    rows = load_json(OWN / "elprisetjustnu_SE3_2025-10-12_two_real_rows.json")
    with pytest.raises(SourceError, match="94 of 96 quarters") as info:
        elprisetjustnu.parse_day(rows, dt.date(2025, 10, 12), STHLM, area="SE3", currency="SEK")
    assert info.value.reason == "payload"


def test_truncated_body_is_not_json() -> None:
    text = (OWN / "elprisetjustnu_SE3_2025-11-05_truncated.json").read_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"not": "a list"}, "JSON array"),
        ([], "JSON array"),
        ([{"SEK_per_kWh": 1.0}], "missing or bad"),
        (
            [{"SEK_per_kWh": "1.0", "time_start": "2025-10-12T00:00:00+02:00",
              "time_end": "2025-10-12T00:15:00+02:00"}],
            "not a number",
        ),
        (
            [{"SEK_per_kWh": 1.0, "time_start": "2025-10-12T00:00:00",
              "time_end": "2025-10-12T00:15:00"}],
            "without UTC offset",
        ),
        (
            [{"SEK_per_kWh": 1.0, "time_start": "2025-10-12T00:00:00+02:00",
              "time_end": "2025-10-12T00:20:00+02:00"}],
            "not a 15- or 60-minute slot",
        ),
    ],
)  # fmt: skip
def test_bad_elprisetjustnu_payloads_are_payload_errors(payload: object, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        elprisetjustnu.parse_day(payload, dt.date(2025, 10, 12), STHLM, area="SE3", currency="SEK")
    assert info.value.reason == "payload"


def test_nordpool_empty_day_is_not_published_and_garbage_is_payload() -> None:
    with pytest.raises(NotPublishedError):
        nordpool.parse_entries({"currency": "SEK", "multiIndexEntries": []}, "SE3", "SEK")
    with pytest.raises(SourceError, match="no multiIndexEntries"):
        nordpool.parse_entries({"currency": "SEK"}, "SE3", "SEK")
    bad = {"multiIndexEntries": [{"deliveryStart": "x", "deliveryEnd": "y"}]}
    with pytest.raises(SourceError, match="entry 0"):
        nordpool.parse_entries(bad, "SE3", "SEK")


def test_nordpool_cet_days_cover_a_finnish_local_day() -> None:
    helsinki = ZoneInfo("Europe/Helsinki")
    assert nordpool.delivery_days(dt.date(2026, 1, 10), helsinki) == [
        dt.date(2026, 1, 9),
        dt.date(2026, 1, 10),
    ]
    assert nordpool.delivery_days(dt.date(2026, 1, 10), STHLM) == [dt.date(2026, 1, 10)]


def test_elprisetjustnu_urls_for_sister_sites() -> None:
    base = "https://www.elprisetjustnu.se/api/v1/prices"
    assert elprisetjustnu.day_url(base, "SE3", dt.date(2025, 9, 4)) == f"{base}/2025/09-04_SE3.json"
    assert elprisetjustnu.day_url("https://x/api/v1/prices", "FI", dt.date(2025, 9, 4)) == (
        "https://x/api/v1/prices/2025/09-04.json"
    )
