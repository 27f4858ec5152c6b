"""A bounded load generator: N scrapes at fixed concurrency, latency of each in seconds."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

import aiohttp

from bench.scraping import SCRAPE_HEADERS


async def scrape_many(
    session: aiohttp.ClientSession, url: str, count: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1  # single-threaded loop: no lock needed between the check and this
            started = time.perf_counter()
            async with session.get(url, headers=SCRAPE_HEADERS) as response:
                await response.read()  # the whole body, decompressed, as Prometheus reads it
                response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a latency that was actually observed."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
