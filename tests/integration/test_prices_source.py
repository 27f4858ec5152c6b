"""The price source against the loopback price server (both wire formats): fallback, cache,
publication of tomorrow, failures. A fake clock walks through the day; requests are counted."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.config import parse_config
from gridwatch.core.state import StateStore
from gridwatch.core.statedb import StateDB
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sources.prices.book import PriceBook
from gridwatch.sources.prices.source import PriceSource
from tests.helpers import PROJECT_FIXTURES, SHARED_FIXTURES

pytestmark = [pytest.mark.integration, pytest.mark.clock]
STHLM = ZoneInfo("Europe/Stockholm")
OWN = PROJECT_FIXTURES / "prices"


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def local(*args: int) -> float:
    return dt.datetime(*args, tzinfo=STHLM).timestamp()  # type: ignore[misc]


@pytest.fixture
async def sim() -> AsyncIterator[PriceSimulator]:
    clock = Clock(local(2026, 11, 20, 9))
    async with PriceSimulator(clock=clock) as server:
        server.hang_seconds = 2.0
        yield server


class Setup:
    def __init__(
        self,
        sim: PriceSimulator,
        db_path: Path,
        wanted: Callable[[], Iterable[dt.date]] = tuple,
        **prices: Any,
    ) -> None:
        self.sim = sim
        self.clock: Clock = sim.clock  # type: ignore[assignment]
        settings = {
            "area": "SE3",
            "elprisetjustnu_url": sim.elprisetjustnu_url,
            "nordpool_url": sim.nordpool_url,
            "timeout": "1s",
            **prices,
        }
        config = parse_config({"prices": settings}).prices
        assert config is not None
        self.db = StateDB(db_path)
        self.store = StateStore(self.clock)
        self.book = PriceBook(
            self.db,
            area="SE3",
            currency=config.price_currency,
            tz=STHLM,
            hourly=config.resolution == "hour",
        )
        self.source = PriceSource(config, self.book, STHLM, clock=self.clock, wanted=wanted)
        self.store.register(self.source.key, self.source.staleness)

    async def refresh(self, at: float | None = None) -> None:
        if at is not None:
            self.clock.now = at
        await self.source.refresh(self.store)

    @property
    def health(self):  # type: ignore[no-untyped-def]
        return self.store.health_of(self.source.key)

    async def close(self) -> None:
        await self.source.close()
        self.db.close()


@pytest.fixture
async def setup(sim: PriceSimulator, tmp_path: Path) -> AsyncIterator[Setup]:
    s = Setup(sim, tmp_path / "gridwatch.db")
    yield s
    await s.close()


async def test_today_is_fetched_once_and_never_again(setup: Setup) -> None:
    await setup.refresh(local(2026, 11, 20, 9))
    assert setup.sim.requests == {"elprisetjustnu": 1}
    assert len(setup.book.slots(dt.date(2026, 11, 20))) == 96
    for minutes in range(0, 180, 15):
        await setup.refresh(local(2026, 11, 20, 9) + minutes * 60)
    assert setup.sim.requests == {"elprisetjustnu": 1}  # cached: no refetch
    assert setup.health.up is True


async def test_restart_needs_no_network_for_cached_days(
    sim: PriceSimulator, tmp_path: Path
) -> None:
    first = Setup(sim, tmp_path / "gw.db")
    await first.refresh(local(2026, 11, 20, 14))  # today and (published) tomorrow
    await first.close()
    assert sim.requests == {"elprisetjustnu": 2}
    sim.break_provider("elprisetjustnu", "http500")
    sim.break_provider("nordpool", "http500")
    second = Setup(sim, tmp_path / "gw.db")
    await second.refresh(local(2026, 11, 20, 15))
    assert sim.requests == {"elprisetjustnu": 2}
    assert second.health.up is True
    assert len(second.book.slots(dt.date(2026, 11, 21))) == 96
    await second.close()


async def test_tomorrow_waits_for_publication_and_retries_every_15_minutes(
    sim: PriceSimulator, setup: Setup
) -> None:
    sim.publish_at = dt.time(13, 40)  # a late day at the exchange
    await setup.refresh(local(2026, 11, 20, 12, 59))
    assert sim.log == [("elprisetjustnu", "2026-11-20")]  # not asked for tomorrow before 13:00
    await setup.refresh(local(2026, 11, 20, 13, 0))
    # 404 from elprisetjustnu and 204 from Nord Pool: not yet, and not an error.
    assert sim.log[1:] == [("elprisetjustnu", "2026-11-21"), ("nordpool", "2026-11-21")]
    assert setup.health.up is True and not setup.health.errors
    await setup.refresh(local(2026, 11, 20, 13, 10))
    assert len(sim.log) == 3  # the retry waits 15 minutes
    await setup.refresh(local(2026, 11, 20, 13, 15))
    assert len(sim.log) == 5
    await setup.refresh(local(2026, 11, 20, 13, 45))
    assert sim.log[5:] == [("elprisetjustnu", "2026-11-21")]
    assert setup.book.has(dt.date(2026, 11, 21))
    await setup.refresh(local(2026, 11, 20, 14, 30))
    assert len(sim.log) == 6
    assert setup.health.up is True and not setup.health.errors


async def test_nordpool_is_the_automatic_fallback(sim: PriceSimulator, setup: Setup) -> None:
    sim.break_provider("elprisetjustnu", "http500")
    await setup.refresh(local(2026, 11, 20, 9))
    day = setup.book.day(dt.date(2026, 11, 20))
    assert day is not None and day.provider == "nordpool" and len(day) == 96
    assert setup.source.fetches == {("elprisetjustnu", "error"): 1, ("nordpool", "ok"): 1}
    assert setup.health.up is True
    # Same curve in both formats: Nord Pool's SEK/MWh with 2 decimals ≈ elprisetjustnu's SEK/kWh.
    rows = sim.elprisetjustnu_body("SE3", dt.date(2026, 11, 20))
    assert day.spot[40] == pytest.approx(rows[40]["SEK_per_kWh"], abs=1e-5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("http500", "http_error"),
        ("garbage", "payload"),
        ("truncated", "payload"),
        ("forbidden", "forbidden"),
        ("timeout", "timeout"),
    ],
)
async def test_both_providers_failing_is_an_error_and_leaves_the_cache(
    sim: PriceSimulator, setup: Setup, mode: str, reason: str
) -> None:
    await setup.refresh(local(2026, 11, 20, 9))  # today cached
    sim.break_provider("elprisetjustnu", mode)
    sim.break_provider("nordpool", mode)
    await setup.refresh(local(2026, 11, 20, 13, 5))
    health = setup.health
    assert health.up is False
    assert health.last_error_reason == reason
    assert health.errors[reason] == 1
    assert setup.book.has(dt.date(2026, 11, 20)) and not setup.book.has(dt.date(2026, 11, 21))
    rows = setup.db.connection.execute("SELECT day FROM price_days").fetchall()
    assert rows == [("2026-11-20",)]
    # While backing off nothing is asked and the source stays down; then it recovers.
    await setup.refresh(local(2026, 11, 20, 13, 5, 30))
    assert setup.health.up is False and health.errors[reason] == 1
    sim.break_provider("elprisetjustnu", None)
    sim.break_provider("nordpool", None)
    await setup.refresh(local(2026, 11, 20, 13, 7))
    assert setup.health.up is True and setup.book.has(dt.date(2026, 11, 21))


@pytest.mark.parametrize(
    ("day", "file", "quarters"),
    [
        (dt.date(2026, 3, 29), "elprisetjustnu_SE3_2026-03-29_PT15M_92slots.json", 92),
        (dt.date(2025, 10, 26), "elprisetjustnu_SE3_2025-10-26_PT15M_100slots.json", 100),
        (dt.date(2025, 9, 20), "elprisetjustnu_SE3_2025-09-20_PT60M_hourly.json", 96),
        (dt.date(2026, 6, 3), "elprisetjustnu_SE3_2026-06-03_PT15M_negative.json", 96),
    ],
)
async def test_fixture_days_over_http(
    sim: PriceSimulator, setup: Setup, day: dt.date, file: str, quarters: int
) -> None:
    sim.serve("elprisetjustnu", day, "SE3", (OWN / file).read_bytes())
    await setup.refresh(local(day.year, day.month, day.day, 10))
    prices = setup.book.day(day)
    assert prices is not None and len(prices) == quarters
    assert prices.provider == "elprisetjustnu"


# The real captures of ../shared/fixtures/prices, served byte for byte (skip when absent):
# (file, provider asked, local day, currency, first quarter's price per kWh).
REAL = [
    ("elprisetjustnu_SE3_2025-09-04_PT60M.json", "elprisetjustnu", dt.date(2025, 9, 4), "SEK",
     0.12229),
    ("nordpool_DayAheadPriceIndices_SE3_2025-10-01_PT15M_SEK_per_MWh.json", "nordpool",
     dt.date(2025, 10, 1), "SEK", 0.55668),
    ("nordpool_DayAheadPrices_SE3_2024-11-05_PT60M_EUR_per_MWh.json", "nordpool",
     dt.date(2024, 11, 5), "EUR", 0.02154),
]  # fmt: skip


@pytest.mark.parametrize("real", REAL, ids=[r[0] for r in REAL])
async def test_real_captures_over_http(
    sim: PriceSimulator, tmp_path: Path, real: tuple[str, str, dt.date, str, float]
) -> None:
    file, provider, day, currency, first = real
    path = SHARED_FIXTURES / "prices" / file
    if not path.is_file():
        pytest.skip("../shared/fixtures not present")
    sim.serve(provider, day, "SE3", path.read_bytes())
    s = Setup(sim, tmp_path / "gw.db", providers=[provider], currency=currency)
    await s.refresh(local(day.year, day.month, day.day, 10))
    prices = s.book.day(day)
    assert s.health.up is True
    assert prices is not None and len(prices) == 96 and prices.provider == provider
    assert prices.spot[0] == pytest.approx(first)
    assert prices.starts[0] == local(day.year, day.month, day.day)
    assert sim.log == [(provider, day.isoformat())]
    await s.close()


async def test_real_eur_capture_is_a_payload_error_for_a_sek_site(
    sim: PriceSimulator, tmp_path: Path
) -> None:
    path = SHARED_FIXTURES / "prices" / REAL[2][0]
    if not path.is_file():
        pytest.skip("../shared/fixtures not present")
    day = dt.date(2024, 11, 5)
    sim.serve("nordpool", day, "SE3", path.read_bytes())
    s = Setup(sim, tmp_path / "gw.db", providers=["nordpool"])  # SEK, the area's currency
    await s.refresh(local(2024, 11, 5, 10))
    assert s.health.up is False and s.health.last_error_reason == "payload"
    assert not s.book.has(day)
    assert s.db.connection.execute("SELECT count(*) FROM price_days").fetchone() == (0,)
    await s.close()


async def test_own_nordpool_autumn_fixture_over_http(sim: PriceSimulator, tmp_path: Path) -> None:
    day = dt.date(2025, 10, 26)
    body = OWN / "nordpool_DayAheadPriceIndices_SE3_2025-10-26_PT15M_SEK_100slots.json"
    sim.serve("nordpool", day, "SE3", body.read_bytes())
    s = Setup(sim, tmp_path / "gw.db", providers=["nordpool"])
    await s.refresh(local(2025, 10, 26, 10))
    prices = s.book.day(day)
    assert prices is not None and len(prices) == 100 and prices.provider == "nordpool"
    assert s.health.up is True
    await s.close()


async def test_unreachable_providers_are_a_connection_error(
    sim: PriceSimulator, tmp_path: Path
) -> None:
    await sim.close()  # nothing listens on the port any more
    s = Setup(sim, tmp_path / "gw.db")
    await s.refresh(local(2026, 11, 20, 9))
    assert s.health.up is False and s.health.last_error_reason == "connection"
    assert s.health.errors["connection"] == 1
    assert s.source.fetches == {("elprisetjustnu", "error"): 1, ("nordpool", "error"): 1}
    assert not s.book.has(dt.date(2026, 11, 20))
    await s.close()


async def test_truncated_fixture_falls_back_to_nordpool(sim: PriceSimulator, setup: Setup) -> None:
    day = dt.date(2025, 11, 5)
    sim.serve(
        "elprisetjustnu",
        day,
        "SE3",
        (OWN / f"elprisetjustnu_SE3_{day}_truncated.json").read_bytes(),
    )
    await setup.refresh(local(2025, 11, 5, 10))
    assert setup.source.fetches[("elprisetjustnu", "error")] == 1
    found = setup.book.day(day)
    assert found is not None and found.provider == "nordpool"


async def test_hourly_contract_and_nordpool_only(sim: PriceSimulator, tmp_path: Path) -> None:
    s = Setup(sim, tmp_path / "gw.db", providers=["nordpool"], resolution="hour")
    await s.refresh(local(2026, 10, 25, 10))  # the 25-hour day
    slots = s.book.slots(dt.date(2026, 10, 25))
    assert len(slots) == 100
    assert sim.requests == {"nordpool": 1}
    assert slots[0].spot == pytest.approx(sum(x.quarter_spot for x in slots[0:4]) / 4)
    assert slots[0].spot == slots[3].spot != slots[4].spot
    await s.close()


async def test_requests_carry_a_descriptive_user_agent(sim: PriceSimulator, setup: Setup) -> None:
    sim.break_provider("elprisetjustnu", "http500")
    await setup.refresh(local(2026, 11, 20, 9))
    assert len(sim.user_agents) == 1
    agent = sim.user_agents.pop()
    assert agent.startswith("gridwatch/") and "exporter" in agent


async def test_days_with_unpriced_energy_are_fetched_within_a_week(
    sim: PriceSimulator, tmp_path: Path
) -> None:
    wanted = {dt.date(2026, 11, 17), dt.date(2026, 11, 1)}  # after an outage; one too old
    s = Setup(sim, tmp_path / "gw.db", wanted=lambda: wanted)
    await s.refresh(local(2026, 11, 20, 9))
    assert sorted(day for _, day in sim.log) == ["2026-11-17", "2026-11-20"]
    assert s.book.has(dt.date(2026, 11, 17))
    await s.close()


async def test_a_failing_primary_is_logged_once_per_outage(
    sim: PriceSimulator, setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gridwatch")
    sim.break_provider("elprisetjustnu", "garbage")
    await setup.refresh(local(2026, 11, 20, 9))
    await setup.refresh(local(2026, 11, 20, 14))  # tomorrow: elprisetjustnu fails again
    failed = [r for r in caplog.records if "elprisetjustnu failed" in r.getMessage()]
    assert len(failed) == 1 and "payload" in failed[0].getMessage()
    assert setup.source.fetches[("elprisetjustnu", "error")] == 2
    sim.break_provider("elprisetjustnu", None)
    await setup.refresh(local(2026, 11, 21, 14))
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_not_yet_from_one_provider_outweighs_the_others_error(
    sim: PriceSimulator, setup: Setup
) -> None:
    await setup.refresh(local(2026, 11, 20, 12))
    sim.publish_at = dt.time(14, 0)
    sim.break_provider("nordpool", "http500")
    await setup.refresh(local(2026, 11, 20, 13, 1))  # elprisetjustnu: 404, Nord Pool: 500
    assert setup.health.up is True and not setup.health.errors
    assert setup.source.fetches[("nordpool", "error")] == 1


async def test_a_rate_limited_answer_is_an_error_and_its_retry_after_is_honoured(
    sim: PriceSimulator, setup: Setup
) -> None:
    await setup.refresh(local(2026, 11, 20, 9))  # today cached
    sim.break_provider("elprisetjustnu", "rate_limited")  # 429, Retry-After: 600
    sim.break_provider("nordpool", "http500")
    await setup.refresh(local(2026, 11, 20, 13, 5))
    assert setup.health.up is False and setup.health.last_error_reason == "http_error"
    asked = len(sim.log)
    # Without the header the next try would come after 1 minute; the provider asked for 10.
    await setup.refresh(local(2026, 11, 20, 13, 6))
    await setup.refresh(local(2026, 11, 20, 13, 14))
    assert len(sim.log) == asked
    sim.break_provider("elprisetjustnu", None)
    await setup.refresh(local(2026, 11, 20, 13, 15))
    assert len(sim.log) == asked + 1
    assert setup.health.up is True and setup.book.has(dt.date(2026, 11, 21))
