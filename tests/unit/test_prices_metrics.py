"""Price and cost metric families on a fake clock: DST-day slot labels, day statistics, the
cheapest windows ahead, cost and capacity series — in the exposition a scrape would return."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from gridwatch.config import parse_config
from gridwatch.core.collector import GridwatchCollector
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.core.statedb import StateDB
from gridwatch.energy.config import TariffConfig
from gridwatch.energy.cost import CostAccounting
from gridwatch.energy.cost_metrics import CostFamilies
from gridwatch.energy.peaks import CapacityPeaks
from gridwatch.energy.tariff import Tariff
from gridwatch.sim.prices.simulator import PriceCurve
from gridwatch.sources.homewizard.reading import P1Reading
from gridwatch.sources.prices.book import PriceBook
from gridwatch.sources.prices.metrics import PriceFamilies
from gridwatch.sources.prices.slots import build_day
from gridwatch.sources.prices.source import PriceSource
from tests.helpers import Samples, names, parse_exposition, value

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")
TARIFF = TariffConfig.model_validate(
    {
        "grid": {"transfer_fee_per_kwh": 0.25, "monthly_fee": 320},
        "energy_tax_per_kwh": 0.36,
        "capacity_fee": {"price_per_kw": 65, "peaks": 2},
    }
)


def local(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


def book_with(days: list[dt.date], tariff: Tariff | None, db: StateDB | None = None) -> PriceBook:
    book = PriceBook(db, area="SE3", currency="SEK", tz=STHLM, tariff=tariff)
    curve = PriceCurve(seed=5, tz=STHLM)
    for day in days:
        entries = [(s, e, round(p * 11, 5)) for s, e, p in curve.day_entries("SE3", day)]
        book.add(build_day(day, STHLM, entries, area="SE3", currency="SEK", provider="test"))
    return book


def scrape(book: PriceBook, now: float, *extra: object, meter_seen: float | None = None) -> Samples:
    config = parse_config({"prices": {"area": "SE3"}}).prices
    assert config is not None
    store = StateStore(lambda: now)
    if meter_seen is not None:  # the meter's last reading, for series shown only while it reports
        store.success(SourceKey("homewizard", "home"), P1Reading(meter_seen, "v1", "poll"))
    source = PriceSource(config, book, STHLM, clock=lambda: now)
    builders = [PriceFamilies(book, source), *extra]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GridwatchCollector(store, builders))  # type: ignore[arg-type]
    return parse_exposition(generate_latest(registry).decode())


def test_autumn_dst_day_has_100_stable_slot_labels_and_no_tomorrow_yet() -> None:
    tariff = Tariff(TARIFF, STHLM)
    book = book_with([dt.date(2025, 10, 26)], tariff)
    now = local(2025, 10, 26, 10, 7)
    s = scrape(book, now)
    labels = {dict(k[1])["slot"] for k in s if k[0] == "gridwatch_price_slot_spot_per_kwh"}
    assert len(labels) == 100 and {"02:00", "02:00b", "02:45b", "23:45"} <= labels
    assert value(s, "gridwatch_price_day_slots", area="SE3", day="today") == 100
    assert value(s, "gridwatch_price_day_slots", area="SE3", day="tomorrow") is None
    assert value(s, "gridwatch_price_tomorrow_published", area="SE3") == 0
    start = value(s, "gridwatch_price_slot_start_timestamp_seconds", area="SE3", day="today",
                  slot="02:00b")  # fmt: skip
    assert start == dt.datetime(2025, 10, 26, 1, tzinfo=dt.UTC).timestamp()
    slots = book.slots(dt.date(2025, 10, 26))
    current = next(x for x in slots if x.start <= now < x.start + 900)
    ac = {"area": "SE3", "currency": "SEK"}
    assert value(s, "gridwatch_price_spot_per_kwh", **ac) == current.spot
    assert value(s, "gridwatch_price_total_per_kwh", **ac) == pytest.approx(
        (current.spot + 0.25 + 0.36) * 1.25
    )
    spots = [x.spot for x in slots]
    for stat, expected in (("min", min(spots)), ("max", max(spots))):
        assert (
            value(s, "gridwatch_price_day_spot_per_kwh", **ac, day="today", stat=stat) == expected
        )
    assert value(s, "gridwatch_price_day_spot_per_kwh", **ac, day="today", stat="mean") == (
        pytest.approx(sum(spots) / 100)
    )
    assert value(s, "gridwatch_tariff_monthly_fees", currency="SEK") == pytest.approx(400)


def test_cheapest_windows_look_24_hours_ahead_over_known_prices() -> None:
    book = book_with([dt.date(2026, 3, 28), dt.date(2026, 3, 29)], None)  # tomorrow: 92 slots
    now = local(2026, 3, 28, 14, 20)
    s = scrape(book, now)
    assert value(s, "gridwatch_price_tomorrow_published", area="SE3") == 1
    assert value(s, "gridwatch_price_day_slots", area="SE3", day="tomorrow") == 92
    ahead = [
        x
        for x in book.slots(dt.date(2026, 3, 28)) + book.slots(dt.date(2026, 3, 29))
        if now - 900 < x.start < now + 86400
    ]
    for hours in (1, 2, 3):
        n = hours * 4
        means = [
            (sum(x.spot for x in ahead[i : i + n]) / n, ahead[i].start)
            for i in range(len(ahead) - n + 1)
        ]
        best_mean, best_start = min(means)
        labels = {"area": "SE3", "hours": str(hours)}
        got = value(s, "gridwatch_price_cheapest_window_start_timestamp_seconds", **labels)
        assert got == best_start
        assert value(
            s, "gridwatch_price_cheapest_window_mean_per_kwh", currency="SEK", **labels
        ) == pytest.approx(best_mean)
    assert value(s, "gridwatch_price_total_per_kwh", area="SE3", currency="SEK") is None


def test_no_prices_known_means_no_price_series() -> None:
    s = scrape(book_with([], None), local(2026, 3, 28, 14))
    assert not [k for k in s if k[0].startswith("gridwatch_price_") and "published" not in k[0]]


def test_cost_and_capacity_families() -> None:
    tariff = Tariff(TARIFF, STHLM)
    book = book_with([dt.date(2026, 11, 2)], tariff)
    assert TARIFF.capacity_fee is not None
    peaks = CapacityPeaks(TARIFF.capacity_fee, STHLM, tariff.capacity_price_per_kw)
    acc = CostAccounting(book.slot, STHLM, peaks=peaks)
    t = local(2026, 11, 2, 9)
    acc.observe("home", t, 100.0, 5.0)
    acc.observe("home", t + 3600, 103.0, 5.0)  # 3 kW for an hour
    acc.observe("home", t + 5400, 103.5, 5.0)  # then 1 kW
    now = t + 5400
    families = CostFamilies(
        acc, "SEK", meter_kind="homewizard", tariff=True, cached_prices=book.cached_slot
    )
    stale = scrape(book, now, families, meter_seen=now - 3600)
    assert value(stale, "gridwatch_capacity_current_hour_average_watts", meter="home") is None
    s = scrape(book, now, families, meter_seen=now - 1)
    slots = [book.slot(t + q * 900) for q in range(6)]
    assert all(slots)
    spot = sum(0.75 * x.spot for x in slots[:4] if x) + sum(0.25 * x.spot for x in slots[4:] if x)
    total = sum(0.75 * x.total for x in slots[:4] if x and x.total) + sum(
        0.25 * x.total for x in slots[4:] if x and x.total
    )
    imp = {"meter": "home", "direction": "import", "currency": "SEK"}
    assert value(s, "gridwatch_energy_spot_cost_total", **imp) == pytest.approx(spot)
    assert value(s, "gridwatch_energy_cost_total", **imp) == pytest.approx(total)
    assert value(s, "gridwatch_energy_cost_total", **{**imp, "direction": "export"}) == 0
    assert value(s, "gridwatch_energy_priced_joules_total", meter="home", direction="import") == (
        pytest.approx(3.5 * 3.6e6)
    )
    hour = {"meter": "home", "direction": "import", "period": "hour"}
    assert value(s, "gridwatch_energy_period_joules", **hour) == pytest.approx(0.5 * 3.6e6)
    assert value(s, "gridwatch_capacity_current_hour_average_watts", meter="home") == (
        pytest.approx(500)
    )
    assert value(s, "gridwatch_capacity_peak_watts", meter="home", rank="1") == pytest.approx(3000)
    assert value(s, "gridwatch_capacity_peak_start_timestamp_seconds", meter="home", rank="1") == t
    assert value(s, "gridwatch_capacity_billed_watts", meter="home") == pytest.approx(3000)
    assert value(s, "gridwatch_capacity_fee", meter="home", currency="SEK") == pytest.approx(
        65 * 1.25 * 3
    )
    assert value(s, "gridwatch_energy_unpriced_joules", meter="home", direction="import") == 0


def test_a_scrape_reads_memory_only_and_preload_fills_it(tmp_path: Path) -> None:
    day = dt.date(2026, 3, 28)
    db = StateDB(tmp_path / "gw.db")
    book_with([day], None, db)
    reopened = PriceBook(db, area="SE3", currency="SEK", tz=STHLM)
    now = local(2026, 3, 28, 14)
    assert (
        value(scrape(reopened, now), "gridwatch_price_day_slots", area="SE3", day="today") is None
    )
    reopened.preload([day, day + dt.timedelta(days=1)])
    s = scrape(reopened, now)
    assert value(s, "gridwatch_price_day_slots", area="SE3", day="today") == 96
    assert value(s, "gridwatch_price_tomorrow_published", area="SE3") == 0
    db.close()


def documented_names(heading: str) -> set[str]:
    """Metric names in the tables of one section of docs/metrics.md."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(gridwatch_[a-z0-9_]+)`", section, re.MULTILINE))


def test_docs_list_exactly_the_price_and_cost_metrics_a_scrape_returns() -> None:
    tariff = Tariff(TARIFF, STHLM)
    today = dt.date(2026, 11, 2)
    book = book_with([today, today + dt.timedelta(days=1)], tariff)
    assert TARIFF.capacity_fee is not None
    peaks = CapacityPeaks(TARIFF.capacity_fee, STHLM, tariff.capacity_price_per_kw)
    acc = CostAccounting(book.slot, STHLM, peaks=peaks)
    t = local(2026, 11, 2, 14)
    acc.observe("home", t, 100.0, 5.0)
    acc.observe("home", t + 3600, 103.0, 6.0)
    now = t + 3700
    families = CostFamilies(
        acc, "SEK", meter_kind="homewizard", tariff=True, cached_prices=book.cached_slot
    )
    config = parse_config({"prices": {"area": "SE3"}}).prices
    assert config is not None
    source = PriceSource(config, book, STHLM, clock=lambda: now)
    source.fetches["elprisetjustnu", "ok"] += 2  # as after fetching today and tomorrow
    store = StateStore(lambda: now)
    store.success(SourceKey("homewizard", "home"), P1Reading(now - 1, "v1", "poll"))

    def exposed(builders: list[object]) -> set[str]:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(GridwatchCollector(store, builders))  # type: ignore[arg-type]
        return names(parse_exposition(generate_latest(registry).decode()))

    # What the price and cost builders add to the exporter's own series (build info, health).
    added = exposed([PriceFamilies(book, source), families]) - exposed([])
    assert added == documented_names("Prices, cost and capacity fee")
