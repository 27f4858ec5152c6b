"""scrape_household: /metrics latency with a full household's state vs plain prometheus_client.

The state is what a home with everything has: one P1 meter (1 Hz push), one SMG-II inverter,
four 16-cell JK packs over the fake BlueZ, two days of quarter-hour prices with cost
accounting, the outage schedule and the health series of every source. The simulators run in
their own process (bench/household_child.py); the comparison is the one of ``scrape``.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import scrape, services
from bench.report import Result
from bench.scraping import get_text, parse
from gridwatch.sim.polling import wait_until

PRICE_SLOTS = "gridwatch_price_slot_total_per_kwh"
CELLS = "gridwatch_battery_cell_voltage_volts"
WANT_SLOTS = 2 * 92  # two days of quarters (92 on the short DST day)
WANT_CELLS = 4 * 16
SOURCES_UP = 8  # meter, prices, inverter, 4 packs, outages


def _complete(body: str) -> bool:
    _, samples = parse(body)
    slots = sum(1 for name, _ in samples if name == PRICE_SLOTS)
    cells = sum(1 for name, _ in samples if name == CELLS)
    up = sum(v for (name, _), v in samples.items() if name == "gridwatch_source_up")
    return slots >= WANT_SLOTS and cells >= WANT_CELLS and up >= SOURCES_UP


async def wait_complete(session: aiohttp.ClientSession, url: str, timeout: float) -> None:
    """Until every source is up and the packs' cells and both price days are in /metrics."""

    async def complete() -> bool:  # another process's state: nothing to await but a scrape
        return _complete(await get_text(session, url + "/metrics"))

    await wait_until(complete, what="a complete household", timeout=timeout, every=0.5)


async def live_household(
    stack: contextlib.AsyncExitStack,
    config: Path,
    *,
    timeout: float = 60,
    connector: aiohttp.BaseConnector | None = None,
) -> tuple[services.Household, services.Exporter, aiohttp.ClientSession]:
    """The household's simulators and an exporter reading them at realistic rates (inverter
    every 2 s, packs every 30 s), returned once its /metrics is complete; ``stack`` stops them."""
    household = await stack.enter_async_context(services.household())
    household.config(config, inverters={"interval": "2s"}, batteries={"interval": "30s"})
    exporter = await stack.enter_async_context(
        services.exporter("exporter", config, env=household.env)
    )
    session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
    await wait_complete(session, exporter.url, timeout)
    return household, exporter, session


async def run(workdir: Path) -> Result:
    result = Result("scrape_household", datetime.now(UTC).isoformat(timespec="seconds"))
    config = workdir / "household.yml"
    async with contextlib.AsyncExitStack() as stack:
        _, exporter, session = await live_household(stack, config, connector=scrape.connector())
        await scrape.against_baseline(stack, session, exporter.url, result)
    result.notes.append(
        "Exporter: `python -m gridwatch run` with the whole household live while it is scraped "
        "(meter push 1 Hz, inverter over the Eybond dongle every 2 s, 4 × 16-cell JK packs via "
        "the fake BlueZ every 30 s, SE3 prices for today and tomorrow, outage queue 5.2); "
        "baseline: start_http_server with static Gauges."
    )
    return result
