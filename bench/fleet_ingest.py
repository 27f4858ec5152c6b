"""fleet_ingest: how many households one central VictoriaMetrics holds (docs/fleet.md).

A household's series are taken from the real thing: the exporter with every simulator of a full
household (bench/household_child.py), scraped once, plus the five series a scrape adds (up,
scrape_*). SITES synthetic sites then send those series through vmauth, each with its own token,
as remote-write requests of one scrape each (what Prometheus sends at the shipped 5 s interval):
values vary the way a house's do (gauges by a little, counters upwards, info and thresholds not).
Time is compressed: each round is the next 5 s of every site, sent as fast as the centre takes
it, starting two hours in the past, so the machine's limit shows within a minute.

Measured at the centre: samples per second accepted, CPU of VictoriaMetrics and of vmauth per
million samples, their memory, and the disk used per sample after a clean stop. From CPU per
sample: how many households (at one scrape per 5 s) one 2-core machine holds at half load.
The sender (Python, this process) shares the machine; its CPU is not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import scrape
from bench.procs import cpu_seconds, rss_bytes
from bench.report import Result
from bench.scrape_household import live_household
from bench.scraping import get_text, parse
from gridwatch.fleet import processes, wire
from gridwatch.fleet.auth import vmauth_config
from gridwatch.fleet.sites import add_site, read_token, sites

SITES = 200
WINDOW_S = 60.0
SCRAPE_INTERVAL_S = 5  # the gridwatch job's interval in prometheus/prometheus.yml
CONCURRENCY = 16  # requests in flight, like a few sites' remote-write shards at once
AUTO_SERIES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)
HALF_LOAD = 0.5  # headroom for queries, merges, catch-up after a region's outage
MB = 1024 * 1024


async def _household_series(workdir: Path) -> list[tuple[dict[str, str], float]]:
    """Labels and value of every series a full household's exporter exposes."""
    config = workdir / "fleet-household.yml"
    async with contextlib.AsyncExitStack() as stack:
        _, exporter, session = await live_household(stack, config, connector=scrape.connector())
        _, samples = parse(await get_text(session, exporter.url + "/metrics"))
    series = [
        ({"__name__": name, **dict(labels)}, value) for (name, labels), value in samples.items()
    ]
    series += [({"__name__": name}, 1.0) for name in AUTO_SERIES]
    return series


class Site:
    """One synthetic site: its token and its series, encoded once."""

    def __init__(
        self, name: str, token: str, series: list[tuple[dict[str, str], float]], ts_len: int
    ) -> None:
        self.headers = {"Authorization": f"Bearer {token}", **wire.CONTENT_HEADERS}
        labels = [{**lbl, "instance": "127.0.0.1:9864", "job": "gridwatch"} for lbl, _ in series]
        self.prefixes = [wire.series_prefix(wire.labels(lbl), ts_len) for lbl in labels]
        self.values = [value for _, value in series]
        names = [lbl["__name__"] for lbl in labels]
        # 0 constant (info, thresholds, timestamps of rare events), 1 gauge, 2 counter.
        self.kinds = [
            2
            if n.endswith(("_total", "_created"))
            else 0
            if n.endswith("_info") or "_alert_" in n or n.endswith("_timestamp_seconds")
            else 1
            for n in names
        ]

    def body(self, ms: int, rng: random.Random) -> bytes:
        ts = wire.timestamp_field(ms)
        parts = []
        for i, prefix in enumerate(self.prefixes):
            kind = self.kinds[i]
            if kind == 1:
                v = round(self.values[i] * (1 + 0.02 * (rng.random() - 0.5)), 2)
            elif kind == 2:
                self.values[i] += round(rng.random() * 10, 1)
                v = self.values[i]
            else:
                v = self.values[i]
            parts.append(prefix + struct.pack("<d", v) + ts)
        return wire.write_request(parts)


def _vm_metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


async def run(workdir: Path) -> Result:
    result = Result("fleet_ingest", datetime.now(UTC).isoformat(timespec="seconds"))
    if missing := processes.missing():
        raise RuntimeError(f"{missing} not installed (apt-get install victoria-metrics)")
    series = await _household_series(workdir)
    folder = workdir / "fleet"
    for n in range(SITES):
        add_site(folder, f"site{n:05d}")
    tokens = sites(folder)
    start_ms = int((time.time() - 2 * 3600) * 1000)
    ts_len = len(wire.timestamp_field(start_ms))
    fleet = [Site(name, token, series, ts_len) for name, token in tokens.items()]
    rng = random.Random(20)
    storage = processes.start_victoria_metrics(workdir / "vm")
    auth = None
    try:
        await storage.wait_ready()
        auth = processes.start_vmauth(
            vmauth_config(tokens, read_token(folder), storage.url), workdir / "vmauth"
        )
        await auth.wait_ready()
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY)
        ) as session:
            gate = asyncio.Semaphore(CONCURRENCY)
            refused = 0

            async def send(site: Site, ms: int) -> None:
                nonlocal refused
                body = site.body(ms, rng)
                async with (
                    gate,
                    session.post(
                        f"{auth.url}/api/v1/write", data=body, headers=site.headers
                    ) as response,
                ):
                    await response.read()
                    refused += response.status != 204

            async def round_(k: int) -> None:
                ms = start_ms + k * SCRAPE_INTERVAL_S * 1000
                await asyncio.gather(*(send(site, ms) for site in fleet))

            await round_(0)  # every series is new here: registered, not measured
            async with session.get(f"{storage.url}/metrics") as r:
                rows0 = _vm_metric(await r.text(), "vm_rows_inserted_total")
            cpu0 = cpu_seconds(storage.process.pid) + cpu_seconds(auth.process.pid)
            wall0, rounds, rss = time.perf_counter(), 0, []
            while time.perf_counter() - wall0 < WINDOW_S:
                rounds += 1
                await round_(rounds)
                rss.append(rss_bytes(storage.process.pid))
            wall = time.perf_counter() - wall0
            vm_cpu = cpu_seconds(storage.process.pid)
            auth_cpu = cpu_seconds(auth.process.pid)
            cpu = vm_cpu + auth_cpu - cpu0
            await asyncio.sleep(2)
            async with session.get(f"{storage.url}/metrics") as r:
                text = await r.text()
            rows = _vm_metric(text, "vm_rows_inserted_total") - rows0
            auth_rss = rss_bytes(auth.process.pid)
    finally:
        if auth is not None:
            auth.stop()
        storage.stop()  # flushes: the disk figure below is what stays
    data = _dir_bytes(workdir / "vm" / "data" / "data")
    index = _dir_bytes(workdir / "vm" / "data" / "indexdb")
    total_rows = rows + SITES * len(series)
    per_household_sps = len(series) / SCRAPE_INTERVAL_S
    cpu_per_million = cpu / rows * 1e6
    households = 2 * HALF_LOAD / (cpu / rows * per_household_sps)
    result.measure("sites", "Synthetic sites (tokens)", SITES)
    result.measure(
        "series_per_household", "Series per household (exporter + scrape's own)", len(series)
    )
    result.measure("active_series", "Series at the centre", SITES * len(series))
    result.measure("rounds", f"Rounds of one scrape per site ({SCRAPE_INTERVAL_S} s each)", rounds)
    result.measure("samples_per_s", "Samples accepted per second (wall)", rows / wall, "/s")
    result.measure("refused", "Requests refused", refused)
    result.measure(
        "cpu_per_million", "VictoriaMetrics + vmauth CPU per million samples", cpu_per_million, "s"
    )
    result.measure(
        "vmauth_cpu_share",
        "vmauth's share of that CPU",
        100 * (auth_cpu - 0) / max(vm_cpu + auth_cpu, 1e-9),
        "%",
    )
    result.measure("vm_rss_max_mb", "VictoriaMetrics RSS, max", max(rss) / MB, "MB")
    result.measure("vmauth_rss_mb", "vmauth RSS at the end", auth_rss / MB, "MB")
    result.measure("bytes_per_sample", "Disk per sample (data parts)", data / total_rows, "B")
    result.measure("index_bytes_per_series", "Index per series", index / (SITES * len(series)), "B")
    result.measure(
        "household_samples_per_s", "One household's samples per second", per_household_sps, "/s"
    )
    result.measure(
        "households_per_2_cores",
        f"Households per 2-core machine at {HALF_LOAD:.0%} CPU",
        households,
    )
    result.notes += [
        f"{SITES} sites × {len(series)} series sent through vmauth (one token each) for "
        f"{WINDOW_S:g} s of wall time, time compressed from two hours ago; the first round "
        "(every series new) is not measured. CPU from /proc of VictoriaMetrics and vmauth; the "
        "Python sender shares the 2 cores and is the bottleneck, so samples/s is a floor and "
        "households per machine comes from CPU per sample.",
        "Disk after a clean stop (du of data/ and indexdb/); a real house's values compress "
        "somewhat better than these (more constant gauges, counters in steps of whole Wh).",
    ]
    return result
