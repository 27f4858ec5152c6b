"""The price source: keeps today's and tomorrow's prices (and any day cost accounting still
waits for) in the price book, asking each provider in turn.

Every decision takes ``now`` from an injectable clock, so tests can walk through publication
times and DST days with ``refresh(now)`` instead of waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import aiohttp

from gridwatch.core.source import SourceContext, SourceError, SourceKey
from gridwatch.sources.prices import elprisetjustnu, nordpool
from gridwatch.sources.prices.book import PriceBook
from gridwatch.sources.prices.config import PricesConfig
from gridwatch.sources.prices.http import USER_AGENT, NotPublishedError, RateLimitedError
from gridwatch.sources.prices.slots import DayPrices

log = logging.getLogger(__name__)

KIND = "prices"
CET = ZoneInfo("Europe/Berlin")  # publication times are quoted in CET/CEST
_ERROR_BACKOFF = 60.0
_MAX_RETRY_AFTER = 6 * 3600.0  # a provider's Retry-After is honoured up to this

Fetcher = Callable[..., Awaitable[DayPrices]]
_FETCHERS: dict[str, Fetcher] = {
    elprisetjustnu.NAME: elprisetjustnu.fetch_day,
    nordpool.NAME: nordpool.fetch_day,
}


@dataclass(frozen=True, slots=True)
class PriceStatus:
    """The reading a refresh reports: which days are known after it."""

    received_at: float
    today: dt.date
    today_known: bool
    tomorrow_known: bool


class PriceSource:
    check_interval = 30.0  # how often the loop looks whether anything is due (no request unless)

    def __init__(
        self,
        config: PricesConfig,
        book: PriceBook,
        tz: ZoneInfo,
        *,
        clock: Callable[[], float] = time.time,
        wanted: Callable[[], Iterable[dt.date]] = tuple,
    ) -> None:
        self.config = config
        self.book = book
        self.key = SourceKey(KIND, config.area)
        self.staleness = 2 * 86400.0  # a day's prices stay valid all day, whatever the source
        self._tz = tz
        self._clock = clock
        self._wanted = wanted  # extra days, e.g. the ones holding unpriced energy
        self._next_try: dict[dt.date, float] = {}
        self._failures: Counter[dt.date] = Counter()
        self.fetches: Counter[tuple[str, str]] = Counter()  # (provider, result) → count
        self._session: aiohttp.ClientSession | None = None
        self._last_error: SourceError | None = None
        self._failing: set[str] = set()  # providers whose last answer was an error
        self._asked_to_wait = 0.0  # the longest Retry-After in the answers about one day

    # -- scheduling -----------------------------------------------------------------------------

    def publication(self, day: dt.date) -> float:
        """When ``day``'s prices are expected: the day before, at publish_after CET."""
        before = day - dt.timedelta(days=1)
        return dt.datetime.combine(before, self.config.publish_after, CET).timestamp()

    def due_days(self, now: float) -> list[dt.date]:
        today = dt.datetime.fromtimestamp(now, self._tz).date()
        days = [today]
        tomorrow = today + dt.timedelta(days=1)
        if now >= self.publication(tomorrow):
            days.append(tomorrow)
        # Days holding unpriced energy, e.g. after a long outage; a week back at most, since
        # older days may no longer be offered (Nord Pool keeps about two months).
        oldest = today - dt.timedelta(days=7)
        days += [d for d in self._wanted() if d not in days and oldest <= d <= tomorrow]
        return [d for d in days if not self.book.has(d) and now >= self._next_try.get(d, 0.0)]

    # -- one round ------------------------------------------------------------------------------

    async def refresh(self, ctx: SourceContext, now: float | None = None) -> None:
        """Fetch what is due; report the round to ``ctx`` as one poll."""
        at = self._clock() if now is None else now
        started = time.perf_counter()
        error: SourceError | None = None
        due = self.due_days(at)
        for day in due:
            self._asked_to_wait = 0.0
            try:
                prices = await self._fetch(day)
            except NotPublishedError:
                self._failures.pop(day, None)
                self._next_try[day] = at + self._wait(self.config.retry_interval)
                continue
            except SourceError as exc:
                self._failures[day] += 1
                backoff = _ERROR_BACKOFF * 2 ** (self._failures[day] - 1)
                self._next_try[day] = at + self._wait(min(backoff, self.config.retry_interval))
                error = error or exc
                continue
            self._failures.pop(day, None)
            self._next_try.pop(day, None)
            self.book.add(prices)
        duration = time.perf_counter() - started
        if not due and self._last_error is not None:
            return  # waiting out a back-off: the source stays down with its reason
        self._last_error = error
        if error is not None:
            ctx.failure(self.key, error, duration)
        else:
            today = dt.datetime.fromtimestamp(at, self._tz).date()
            tomorrow = today + dt.timedelta(days=1)
            status = PriceStatus(
                received_at=at,
                today=today,
                today_known=self.book.has(today),
                tomorrow_known=self.book.has(tomorrow),
            )
            ctx.success(self.key, status, duration)

    def _wait(self, planned: float) -> float:
        """The planned pause, or longer when a provider said so (Retry-After, at most 6 h)."""
        return max(planned, min(self._asked_to_wait, _MAX_RETRY_AFTER))

    async def _fetch(self, day: dt.date) -> DayPrices:
        """Ask each provider in order; the first with the day wins.

        "Not published yet" from any provider outweighs another provider's error: the day
        is not to be had anywhere, which is no failure (the error is still counted and logged).
        """
        error: SourceError | None = None
        not_yet = False
        for provider in self.config.providers:
            base = (
                self.config.elprisetjustnu_base
                if provider == elprisetjustnu.NAME
                else self.config.nordpool_url
            )
            try:
                prices = await _FETCHERS[provider](
                    self._http(),
                    base,
                    day,
                    self._tz,
                    area=self.config.area,
                    currency=self.config.price_currency,
                )
            except NotPublishedError:
                self.fetches[provider, "not_published"] += 1
                self._provider_ok(provider)
                not_yet = True
                continue
            except SourceError as exc:
                self.fetches[provider, "error"] += 1
                if isinstance(exc, RateLimitedError):
                    self._asked_to_wait = max(self._asked_to_wait, exc.retry_after)
                if provider not in self._failing:  # once per outage, not per retry
                    self._failing.add(provider)
                    log.warning("price provider %s failed (%s); trying the next one", provider, exc)
                error = error or exc
                continue
            self.fetches[provider, "ok"] += 1
            self._provider_ok(provider)
            return prices
        if error is not None and not not_yet:
            raise error
        raise NotPublishedError(f"{day} not published yet")

    def _provider_ok(self, provider: str) -> None:
        if provider in self._failing:
            self._failing.discard(provider)
            log.info("price provider %s answers again", provider)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- Source ---------------------------------------------------------------------------------

    async def run(self, ctx: SourceContext) -> None:
        try:
            while True:
                await self.refresh(ctx)
                await asyncio.sleep(self.check_interval)
        finally:
            await self.close()
