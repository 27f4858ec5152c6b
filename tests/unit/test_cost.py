"""Cost accounting: a month of 1 Hz meter readings priced per quarter, against an independent sum.

The meter's counters follow known closed-form energy curves, so the exact energy of every
quarter is known without gridwatch's splitting. The reference applies its own formula for the
total price (supplier, time-of-use grid fee, energy tax, VAT), so the engine and the tariff code
are both checked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridwatch.core.statedb import StateDB
from gridwatch.energy.config import TariffConfig
from gridwatch.energy.cost import CostAccounting
from gridwatch.energy.tariff import Tariff
from gridwatch.sim.prices.simulator import PriceCurve
from gridwatch.sources.prices.book import PriceBook
from gridwatch.sources.prices.slots import build_day

pytestmark = pytest.mark.clock

STHLM = ZoneInfo("Europe/Stockholm")
QUARTER = 900
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()
TAU = 2 * math.pi

TARIFF = TariffConfig.model_validate(
    {
        "vat": 0.25,
        "supplier": {"markup_per_kwh": 0.04, "variable_fees_per_kwh": 0.02},
        "grid": {
            "transfer_fee_per_kwh": 0.15,
            "transfer_periods": [
                {
                    "months": [11, 12, 1, 2, 3],
                    "weekdays_only": True,
                    "hours": {"start": 6, "end": 22},
                    "price_per_kwh": 0.30,
                }
            ],
        },
        "energy_tax_per_kwh": 0.36,
        "export": {"spot_factor": 1.0, "supplier_fee_per_kwh": 0.02, "grid_benefit_per_kwh": 0.05},
    }
)
HOLIDAYS = {dt.date(2026, 4, 3), dt.date(2026, 4, 6)}  # långfredag, annandag påsk 2026


# -- the independent reference ------------------------------------------------------------------


def import_kwh(t: float) -> float:
    """Import register: ∫ p dt with p = 2.5 + 1.5 sin(daily) + 0.7 sin(90-min) kW."""
    x = t - T0
    return (
        12345.0
        + (
            2.5 * x
            - 1.5 * 86400 / TAU * math.cos(TAU * x / 86400)
            - 0.7 * 5400 / TAU * math.cos(TAU * x / 5400 + 1)
        )
        / 3600
    )


def export_kwh(t: float) -> float:
    """Export register: p = 0.4 + 0.3 sin(2 h) kW."""
    x = t - T0
    return 321.0 + (0.4 * x - 0.3 * 7200 / TAU * math.cos(TAU * x / 7200)) / 3600


def ref_import_price(spot: float, start: float) -> float:
    local = dt.datetime.fromtimestamp(start, STHLM)
    peak = (
        local.month in (11, 12, 1, 2, 3)
        and local.weekday() < 5
        and local.date() not in HOLIDAYS
        and 6 <= local.hour < 22
    )
    return (spot + 0.04 + 0.02 + 0.36 + (0.30 if peak else 0.15)) * 1.25


def ref_export_price(spot: float) -> float:
    return spot - 0.02 + 0.05


def reference(spot_of: Callable[[float], float], t_first: float, t_last: float) -> dict[str, float]:
    sums = dict.fromkeys(("import_spot", "import_total", "export_spot", "export_total"), 0.0)
    slot = t_first - t_first % QUARTER
    while slot < t_last:
        a, b = max(slot, t_first), min(slot + QUARTER, t_last)
        spot = spot_of(slot)
        e_in = import_kwh(b) - import_kwh(a)
        e_out = export_kwh(b) - export_kwh(a)
        sums["import_spot"] += e_in * spot
        sums["import_total"] += e_in * ref_import_price(spot, slot)
        sums["export_spot"] += e_out * spot
        sums["export_total"] += e_out * ref_export_price(spot)
        slot += QUARTER
    return sums


# -- helpers ------------------------------------------------------------------------------------


def make_book(first: dt.date, days: int, *, hourly: bool = False) -> PriceBook:
    book = PriceBook(
        None, area="SE3", currency="SEK", tz=STHLM, hourly=hourly, tariff=Tariff(TARIFF, STHLM)
    )
    curve = PriceCurve(seed=3, tz=STHLM)
    for i in range(days):
        book.add(day_prices(curve, first + dt.timedelta(days=i)))
    return book


def day_prices(curve: PriceCurve, day: dt.date):  # type: ignore[no-untyped-def]
    entries = [(s, e, round(eur * 11.05, 5)) for s, e, eur in curve.day_entries("SE3", day)]
    return build_day(day, STHLM, entries, area="SE3", currency="SEK", provider="test")


def spot_lookup(book: PriceBook) -> Callable[[float], float]:
    def spot(slot: float) -> float:
        found = book.slot(slot)
        assert found is not None
        return found.spot

    return spot


def feed(acc: CostAccounting, start: float, end: float, meter: str = "home") -> float:
    """1 Hz readings from ``start`` (not on a whole second) while < ``end``; returns the last."""
    observe = acc.observe
    t = start
    while t < end:
        observe(meter, t, import_kwh(t), export_kwh(t))
        t += 1.0
    return t - 1.0


def engine_sums(acc: CostAccounting, meter: str = "home") -> dict[str, float]:
    acc.realise_open()
    i, e = acc.totals(meter, "import"), acc.totals(meter, "export")
    return {
        "import_spot": i.spot,
        "import_total": i.total,
        "export_spot": e.spot,
        "export_total": e.total,
    }


def assert_close(got: dict[str, float], want: dict[str, float]) -> None:
    for key, expected in want.items():
        assert got[key] == pytest.approx(expected, abs=0.01), key


def local(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


# -- tests --------------------------------------------------------------------------------------


def test_a_month_of_1hz_readings_over_spring_dst_matches_the_reference() -> None:
    book = make_book(dt.date(2026, 3, 14), 34)
    acc = CostAccounting(book.slot, STHLM)
    start = local(2026, 3, 15, 0) + 0.37  # readings never on a quarter boundary: deltas split
    end = local(2026, 4, 14, 0)
    last = feed(acc, start, end)
    want = reference(spot_lookup(book), start, last)
    got = engine_sums(acc)
    assert_close(got, want)
    assert want["import_total"] > 1000  # a real month of cost, not a trivially small number
    # The calendar month so far (April) matches the reference over April's quarters.
    april = reference(spot_lookup(book), local(2026, 4, 1), last)
    month = acc.period("home", "import", "month", last)
    assert month.total == pytest.approx(april["import_total"], abs=0.01)
    assert month.kwh == pytest.approx(import_kwh(last) - import_kwh(local(2026, 4, 1)), abs=1e-6)


def test_a_month_of_1hz_readings_over_autumn_dst_matches_the_reference() -> None:
    # 2025-10-12 … 11-11: the 100-quarter day, the month change and winter grid-fee periods.
    book = make_book(dt.date(2025, 10, 11), 33)
    acc = CostAccounting(book.slot, STHLM)
    start = local(2025, 10, 12, 0) + 0.61
    dst_day_end = local(2025, 10, 27, 0)
    last = feed(acc, start, dst_day_end)  # the last reading in the last second of 25 hours
    acc.realise_open()  # as a scrape does
    day = acc.period("home", "import", "day", last)
    day_ref = reference(spot_lookup(book), local(2025, 10, 26), last)
    assert day.total == pytest.approx(day_ref["import_total"], abs=0.01)
    assert day.kwh == pytest.approx(import_kwh(last) - import_kwh(local(2025, 10, 26)), abs=1e-6)
    assert day.kwh > 25 * 2.5 * 0.9  # 25 hours of energy in one local day
    last = feed(acc, last + 1.0, local(2025, 11, 11, 0))
    want = reference(spot_lookup(book), start, last)
    assert_close(engine_sums(acc), want)
    assert want["import_total"] > 1000


@pytest.mark.parametrize("clean", [True, False], ids=["clean-restart", "crash"])
def test_restart_in_the_middle_of_a_day_continues_the_totals(tmp_path: Path, clean: bool) -> None:
    book = make_book(dt.date(2026, 3, 28), 3)
    path = tmp_path / "gridwatch.db"
    start = local(2026, 3, 29, 0) + 0.25  # the 23-hour spring DST day
    middle = local(2026, 3, 29, 13, 37, 12)
    end = local(2026, 3, 30, 0)

    db = StateDB(path)
    first = CostAccounting(book.slot, STHLM, db=db, persist_every=60)
    feed(first, start, middle)
    if clean:
        first.persist()  # what the exporter's on_stop hook does
    db.close()  # a crash loses at most the last minute's snapshot, never consistency

    db = StateDB(path)
    second = CostAccounting(book.slot, STHLM, db=db, persist_every=60)
    last = feed(second, middle + 0.25 + (start % 1), end)
    assert_close(engine_sums(second), reference(spot_lookup(book), start, last))
    db.close()


def test_a_month_with_a_crash_in_the_repeated_hour_of_the_autumn_dst_day(tmp_path: Path) -> None:
    # The month of the 100-quarter day again, but gridwatch dies at 02:20 CET — in the second
    # pass of 02:xx — without a final save (the last one is up to 5 min old), and comes back
    # 7 s later with the same state file.
    book = make_book(dt.date(2025, 10, 11), 33)
    path = tmp_path / "gridwatch.db"
    start = local(2025, 10, 12, 0) + 0.61
    crash = dt.datetime(2025, 10, 26, 1, 20, tzinfo=dt.UTC).timestamp() + 0.61
    end = local(2025, 11, 11, 0)

    db = StateDB(path)
    feed(CostAccounting(book.slot, STHLM, db=db, persist_every=300), start, crash)
    db.close()

    db = StateDB(path)
    second = CostAccounting(book.slot, STHLM, db=db, persist_every=300)
    last = feed(second, crash + 7.0, end)
    assert_close(engine_sums(second), reference(spot_lookup(book), start, last))
    november = reference(spot_lookup(book), local(2025, 11, 1), last)
    month = second.period("home", "import", "month", last)
    assert month.total == pytest.approx(november["import_total"], abs=0.01)
    db.close()


def test_counter_reset_and_meter_replacement_do_not_spike() -> None:
    book = make_book(dt.date(2026, 3, 9), 2)
    acc = CostAccounting(book.slot, STHLM)
    t = local(2026, 3, 10, 8)
    acc.observe("home", t, 1000.0, 10.0, unique_id="A")
    acc.observe("home", t + 10, 1000.01, 10.0, unique_id="A")
    acc.observe("home", t + 20, 0.02, 10.0, unique_id="A")  # register reset to zero
    acc.observe("home", t + 30, 0.03, 10.0, unique_id="A")
    acc.observe("home", t + 40, 5000.0, 0.0, unique_id="B")  # a new meter, higher register
    acc.observe("home", t + 50, 5000.01, 0.0, unique_id="B")
    acc.observe("home", t + 60, 9000.0, 0.0, unique_id="B")  # 4000 kWh in 10 s: implausible
    acc.observe("home", t + 70, 9000.01, 0.0, unique_id="B")
    acc.realise_open()
    assert acc.totals("home", "import").kwh == pytest.approx(0.04)
    assert acc.resets("home") == 3
    assert acc.totals("home", "export").kwh == 0.0
    acc.observe("home", t + 65, 9999.0, 0.0)  # out of order: ignored
    acc.realise_open()
    assert acc.totals("home", "import").kwh == pytest.approx(0.04)


def test_a_delta_across_quarters_is_split_proportionally() -> None:
    book = make_book(dt.date(2026, 3, 10), 1)
    acc = CostAccounting(book.slot, STHLM)
    t0 = local(2026, 3, 10, 10, 14)
    acc.observe("home", t0, 100.0, None)
    acc.observe("home", t0 + 120, 102.0, None)  # 10:14–10:16: 1 kWh in each quarter
    acc.realise_open()
    first, second = book.slot(local(2026, 3, 10, 10)), book.slot(local(2026, 3, 10, 10, 15))
    assert first is not None and second is not None
    assert acc.totals("home", "import").spot == pytest.approx(first.spot + second.spot)
    assert acc.period("home", "import", "quarter", t0 + 120).kwh == pytest.approx(1.0)
    assert not acc.has_counter("home", "export")


def test_energy_waits_for_its_price_and_is_priced_when_the_day_arrives() -> None:
    book = make_book(dt.date(2026, 3, 10), 1)  # the 11th is not known yet
    acc = CostAccounting(book.slot, STHLM)
    book.on_new_day(lambda _d: acc.price_pending())
    start = local(2026, 3, 10, 22) + 0.5
    last = feed(acc, start, local(2026, 3, 11, 2))
    acc.realise_open()
    assert acc.pending_days() == {dt.date(2026, 3, 11)}
    assert acc.unpriced_kwh("home", "import") == pytest.approx(
        import_kwh(last) - import_kwh(local(2026, 3, 11)), abs=1e-6
    )
    book.add(day_prices(PriceCurve(seed=3, tz=STHLM), dt.date(2026, 3, 11)))
    assert acc.pending_days() == set()
    assert acc.unpriced_kwh("home", "import") == 0
    assert_close(engine_sums(acc), reference(spot_lookup(book), start, last))


def test_hourly_contract_prices_every_quarter_at_the_hour_mean() -> None:
    quarterly = make_book(dt.date(2026, 3, 10), 1)
    hourly = make_book(dt.date(2026, 3, 10), 1, hourly=True)
    acc = CostAccounting(hourly.slot, STHLM)
    start = local(2026, 3, 10, 6) + 0.5
    last = feed(acc, start, local(2026, 3, 10, 9))

    def hour_mean(slot: float) -> float:
        hour = slot - slot % 3600  # whole-hour offset: local hours are UTC hours
        quarters = [quarterly.slot(hour + q * QUARTER) for q in range(4)]
        return sum(q.spot for q in quarters if q is not None) / 4

    assert_close(engine_sums(acc), reference(hour_mean, start, last))


def test_two_meters_are_accounted_separately() -> None:
    book = make_book(dt.date(2026, 3, 10), 1)
    acc = CostAccounting(book.slot, STHLM)
    t = local(2026, 3, 10, 12)
    for meter, kwh in (("house", 1.0), ("garage", 3.0)):
        acc.observe(meter, t, 50.0, None)
        acc.observe(meter, t + 60, 50.0 + kwh, None)
    acc.realise_open()
    assert acc.meters() == ["garage", "house"]
    assert acc.totals("garage", "import").spot == pytest.approx(
        3 * acc.totals("house", "import").spot
    )


def test_unreadable_saved_state_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = StateDB(tmp_path / "gw.db")
    db.put("cost", "home", {"last_ts": "yesterday"})
    acc = CostAccounting(lambda _slot: None, STHLM, db=db)
    assert acc.meters() == []
    assert "saved cost state of meter home is unreadable" in caplog.text
    acc.observe("home", local(2026, 3, 10, 12), 1.0, None)  # starts a fresh baseline
    assert acc.has_counter("home", "import")
    db.close()
