"""scrape: /metrics latency of the exporter vs plain prometheus_client with as many samples."""

from __future__ import annotations

import contextlib
import statistics
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import services
from bench.load import percentile, scrape_many
from bench.report import Result, Target
from bench.scraping import get_text, parse, wait_for_text

FIXTURE = Path(__file__).resolve().parent.parent / (
    "tests/fixtures/homewizard/v1_3phase_import_export.json"
)
PHASE_SERIES = "gridwatch_p1_phase_power_watts{"
SCRAPES = 1000
CONCURRENCY = 4
BLOCK = 100  # scrapes per turn; the two servers take turns so drift hits both alike
WARMUP = 50
MAX_P99_RATIO = 2.0


def connector() -> aiohttp.TCPConnector:
    # force_close: prometheus_client's wsgiref server speaks HTTP/1.0 and closes every
    # connection, so both servers pay one TCP connect per scrape, as is only fair.
    return aiohttp.TCPConnector(limit=CONCURRENCY, force_close=True)


async def against_baseline(
    stack: contextlib.AsyncExitStack,
    session: aiohttp.ClientSession,
    exporter_url: str,
    result: Result,
) -> None:
    """Start a baseline with the exporter's sample count, scrape both interleaved, record."""
    body = await get_text(session, exporter_url + "/metrics")
    families, samples = parse(body)
    baseline = await stack.enter_async_context(services.baseline(len(samples), families))
    base_body = await get_text(session, baseline + "/metrics")
    if len(parse(base_body)[1]) != len(samples):
        raise RuntimeError("baseline does not serve the exporter's sample count")

    urls = {"exporter": exporter_url + "/metrics", "baseline": baseline + "/metrics"}
    for url in urls.values():
        await scrape_many(session, url, WARMUP, CONCURRENCY)
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    for turn in range(SCRAPES // BLOCK):
        order = list(urls) if turn % 2 == 0 else list(reversed(urls))
        for name in order:
            latencies[name] += await scrape_many(session, urls[name], BLOCK, CONCURRENCY)

    result.measure("samples", "Samples in /metrics (both servers)", len(samples))
    result.measure("families", "Metric families in /metrics (both servers)", families)
    result.measure("exporter_body_bytes", "Exporter body, text format", len(body), "B")
    result.measure("baseline_body_bytes", "Baseline body, text format", len(base_body), "B")
    stats: dict[str, dict[str, float]] = {}
    for name, values in latencies.items():
        stats[name] = {
            "p50": percentile(values, 50) * 1000,
            "p99": percentile(values, 99) * 1000,
            "mean": statistics.fmean(values) * 1000,
        }
        result.measure(f"{name}_scrapes", f"{name.capitalize()} scrapes", len(values))
        for stat, ms in stats[name].items():
            result.measure(f"{name}_{stat}_ms", f"{name.capitalize()} {stat} latency", ms, "ms")
    ratio50 = stats["exporter"]["p50"] / stats["baseline"]["p50"]
    ratio99 = stats["exporter"]["p99"] / stats["baseline"]["p99"]
    result.measure("ratio_p50", "Exporter / baseline at p50", ratio50, "×")
    result.measure("ratio_p99", "Exporter / baseline at p99", ratio99, "×")
    result.targets.append(
        Target("ratio_p99", "p99 latency exporter / baseline", ratio99, "<=", MAX_P99_RATIO, "×")
    )
    result.notes.append(
        f"{SCRAPES} scrapes per server at concurrency {CONCURRENCY}, in alternating blocks of "
        f"{BLOCK} after {WARMUP} warm-up scrapes each; Prometheus-like Accept and gzip headers."
    )


async def run(workdir: Path) -> Result:
    result = Result("scrape", datetime.now(UTC).isoformat(timespec="seconds"))
    config = workdir / "scrape.yml"
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(services.simulator(fixture=FIXTURE))
        services.write_config(config, sim.v1_meter(interval="10s"))
        exporter = await stack.enter_async_context(services.exporter("exporter", config))
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector()))
        await wait_for_text(session, exporter.url, PHASE_SERIES, services.START_TIMEOUT)
        await against_baseline(stack, session, exporter.url, result)
    result.notes.append(
        "Exporter: `python -m gridwatch run` polling the simulator (v1, 10 s) serving "
        "v1_3phase_import_export.json; baseline: start_http_server with static Gauges."
    )
    return result
