"""Scraping over loopback the way Prometheus does, and reading values out of the exposition."""

from __future__ import annotations

import time
from collections.abc import Mapping

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from gridwatch.sim.polling import wait_until

# What Prometheus 2.x sends: OpenMetrics preferred, gzip only (aiohttp would also offer deflate).
SCRAPE_HEADERS: Mapping[str, str] = {
    "Accept": (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    ),
    "Accept-Encoding": "gzip",
    "User-Agent": "gridwatch-bench",
}
TEXT_HEADERS: Mapping[str, str] = {"Accept": "text/plain;version=0.0.4"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def get_text(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url, headers=TEXT_HEADERS) as response:
        response.raise_for_status()
        return await response.text()


async def get_json(session: aiohttp.ClientSession, url: str) -> object:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


def parse(text: str) -> tuple[int, Samples]:
    """(number of families, samples keyed by name and labels) of a text exposition."""
    families = list(text_string_to_metric_families(text))
    samples: Samples = {}
    for family in families:
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return len(families), samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def scrape(session: aiohttp.ClientSession, base_url: str) -> Samples:
    return parse(await get_text(session, base_url + "/metrics"))[1]


async def wait_for_text(
    session: aiohttp.ClientSession, base_url: str, needle: str, timeout: float
) -> float:
    """perf_counter() of the first /metrics body containing ``needle``, polled every 20 ms."""

    async def found() -> bool:
        try:
            return needle in await get_text(session, base_url + "/metrics")
        except aiohttp.ClientError:
            return False  # not listening yet

    return await wait_until(
        found, what=needle, timeout=timeout, every=0.02, clock=time.perf_counter
    )


async def wait_for_value(
    session: aiohttp.ClientSession, base_url: str, name: str, want: float, timeout: float
) -> None:
    async def reached() -> bool:  # another process's state: nothing to await but a scrape
        return value(await scrape(session, base_url), name, **HOMEWIZARD) == want

    await wait_until(reached, what=f"{name} = {want}", timeout=timeout, every=0.1)


HOMEWIZARD = {"source": "homewizard", "device": "home"}
