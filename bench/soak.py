"""soak: the exporter runs a whole household for an hour while its peers fail one after another.

`python -m bench.soak --minutes 60` (`make soak`; not part of `make bench`, not in CI). Every
``--fault-every`` seconds one fault from ``FAULTS`` is injected into the simulators
(bench/household_child.py, their own process) or Prometheus: a peer stopped and started again,
a peer answering garbage and then healed, Prometheus restarted. A real Prometheus scrapes the
exporter every 5 s throughout (the shipped prometheus.yml). Reported: RSS and open file
descriptors at the start and at the end, errors counted per source, whether and how fast each
faulted source came back, and that every source and Prometheus's scrape are up at the end.

The run is bounded: fault slots stop before ``--minutes`` is over, and the final check for
recovery waits at most ``FINAL_WAIT`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench import services
from bench.__main__ import RESULTS, write_markdown
from bench.machine import machine_info
from bench.procs import open_fds, rss_bytes
from bench.report import Result, Target, write_json
from bench.scrape_household import wait_complete
from bench.scraping import Samples, scrape
from gridwatch import children
from gridwatch.binaries import Binary, prometheus_binary, prometheus_config, start_prometheus

# (peer, what breaks it, what heals it). Stops and garbage alternate, and Prometheus comes
# early, so even a short run sees every kind of fault.
FAULTS: tuple[tuple[str, str, str], ...] = (
    ("meter", "stop", "start"),
    ("inverter", "garbage", "heal"),
    ("prometheus", "restart", ""),
    ("batteries", "stop", "start"),
    ("outages", "garbage", "heal"),
    ("prices", "stop", "start"),
    ("meter", "garbage", "heal"),
    ("inverter", "stop", "start"),
    ("batteries", "garbage", "heal"),
    ("outages", "stop", "start"),
    ("prices", "garbage", "heal"),
)
SOURCE_OF = {
    "meter": "homewizard",
    "inverter": "inverter",
    "batteries": "bms",
    "outages": "outages",
    "prices": "prices",
}
HOLD = 30.0  # seconds a fault lasts: longer than one battery round and one outage poll
SETTLE = 10.0
SAMPLE_EVERY = 10.0  # RSS samples
FINAL_WAIT = 120.0  # at most this long after the last slot for every source to be up
FD_READS = 5  # fds are the fewest of a few reads, so a scrape's socket in flight is not growth
MAX_RSS_GROWTH_MB = 5.0
FULL_MINUTES = 60  # what the targets are for; shorter runs say so in the results
MB = 1024 * 1024
# Realistic rates, except the outage schedule: polled every 30 s instead of 10 min, so that its
# faults reach the exporter within a fault's HOLD.
OVERRIDES: dict[str, Any] = {
    "inverters": {"interval": "2s"},
    "batteries": {"interval": "30s"},
    "outages": {"interval": "30s"},
}


@dataclass
class FaultRecord:
    peer: str
    action: str
    errors: float  # errors the exporter counted for the peer's source while it lasted
    recovered_s: float | None  # seconds from the heal to the source up with fresh data


def _by_source(samples: Samples, name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for (metric, labels), value in samples.items():
        if metric == name:
            source = dict(labels).get("source", "")
            out[source] = out.get(source, 0.0) + value
    return out


def _up(samples: Samples, source: str) -> bool:
    ups = [v for (m, labels), v in samples.items() if m == "gridwatch_source_up" and
           dict(labels).get("source") == source]  # fmt: skip
    return bool(ups) and all(v == 1.0 for v in ups)


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.minutes: float = args.minutes
        self.fault_every: float = args.fault_every
        self.workdir = workdir
        self.session: aiohttp.ClientSession | None = None
        self.exporter_url = ""
        self.control = ""
        self.prometheus: Binary | None = None
        self.prom_config: dict[str, Any] = {}
        self.prometheus_started_at = 0.0  # wall clock, as Prometheus stamps its samples
        self.rss: list[int] = []
        self.records: list[FaultRecord] = []

    @property
    def length(self) -> str:
        """How long the run was, in the targets' labels: a short run must not pass for the hour."""
        short = " (short run)" if self.minutes < FULL_MINUTES else ""
        return f"the {self.minutes:g}-minute soak{short}"

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self.session is not None
        return self.session

    async def samples(self) -> Samples:
        return await scrape(self.http, self.exporter_url)

    async def fds(self, pid: int) -> int:
        reads = []
        for _ in range(FD_READS):
            reads.append(open_fds(pid))
            await asyncio.sleep(1)
        return min(reads)

    async def prometheus_up(self) -> bool:
        """Prometheus has scraped the exporter successfully since it (re)started. A restarted
        Prometheus replays its last ``up`` from the WAL, so the sample's own time is checked."""
        if self.prometheus is None:
            return False
        url = f"{self.prometheus.url}/api/v1/query"
        query = 'timestamp(up{job="gridwatch"} == 1)'
        with contextlib.suppress(aiohttp.ClientError, OSError, KeyError, ValueError):
            async with self.http.get(url, params={"query": query}) as response:
                data = await response.json()
                stamps = [float(r["value"][1]) for r in data["data"]["result"]]
                return bool(stamps) and min(stamps) > self.prometheus_started_at
        return False

    async def restart_prometheus(self) -> None:
        assert self.prometheus is not None
        port = self.prometheus.port
        self.prometheus.stop()
        await asyncio.sleep(2)
        self.prometheus_started_at = time.time()
        self.prometheus = start_prometheus(self.prom_config, self.workdir / "prometheus", port)
        await self.prometheus.wait_ready(60)

    async def fault(self, peer: str, action: str) -> None:
        url = f"{self.control}/fault"
        async with self.http.post(url, params={"peer": peer, "action": action}) as response:
            response.raise_for_status()

    async def recovered(self, peer: str, updates_at_heal: float) -> bool:
        if peer == "prometheus":
            return await self.prometheus_up()
        source = SOURCE_OF[peer]
        samples = await self.samples()
        fresh = _by_source(samples, "gridwatch_source_updates_total").get(source, 0.0)
        # Prices ask for nothing while both days are cached: up is all they can show.
        return _up(samples, source) and (fresh > updates_at_heal or peer == "prices")

    async def slot(self, peer: str, brk: str, heal: str, slot_end: float) -> FaultRecord:
        source = SOURCE_OF.get(peer, "")
        before = _by_source(await self.samples(), "gridwatch_source_errors_total")
        if peer == "prometheus":
            if self.prometheus is None:
                return FaultRecord(peer, "skipped (no prometheus binary)", 0, None)
            await self.restart_prometheus()
        else:
            await self.fault(peer, brk)
            await asyncio.sleep(HOLD)
            await self.fault(peer, heal)
        healed_at = time.monotonic()
        samples = await self.samples()
        errors = _by_source(samples, "gridwatch_source_errors_total")
        delta = errors.get(source, 0.0) - before.get(source, 0.0)
        updates = _by_source(samples, "gridwatch_source_updates_total").get(source, 0.0)
        recovered_s = None
        while time.monotonic() < slot_end:
            if await self.recovered(peer, updates):
                recovered_s = time.monotonic() - healed_at
                break
            await asyncio.sleep(1)
        return FaultRecord(peer, brk, delta, recovered_s)

    async def sample_rss(self, pid: int) -> None:
        while True:
            self.rss.append(rss_bytes(pid))
            await asyncio.sleep(SAMPLE_EVERY)

    async def run(self) -> Result:
        result = Result("soak", datetime.now(UTC).isoformat(timespec="seconds"))
        config = self.workdir / "soak.yml"
        async with contextlib.AsyncExitStack() as stack:
            household = await stack.enter_async_context(services.household())
            self.control = household.control
            household.config(config, **OVERRIDES)
            exporter = await stack.enter_async_context(
                services.exporter("exporter", config, env=household.env)
            )
            self.exporter_url = exporter.url
            self.session = await stack.enter_async_context(aiohttp.ClientSession())
            if prometheus_binary():
                port = exporter.url.rsplit(":", 1)[1]
                self.prom_config = prometheus_config(exporter_targets=[f"127.0.0.1:{port}"])
                self.prometheus_started_at = time.time()
                self.prometheus = start_prometheus(self.prom_config, self.workdir / "prometheus")
                stack.callback(lambda: self.prometheus.stop() if self.prometheus else None)
                await self.prometheus.wait_ready(60)
            await wait_complete(self.http, exporter.url, 90)
            await asyncio.sleep(SETTLE)

            pid = exporter.child.pid
            rss_start, fds_start = rss_bytes(pid), await self.fds(pid)
            errors_start = _by_source(await self.samples(), "gridwatch_source_errors_total")
            sampler = asyncio.create_task(self.sample_rss(pid))
            started = time.monotonic()
            deadline = started + self.minutes * 60
            # Slots on a fixed grid, so the time each one takes does not eat into the next.
            for index in range(int(self.minutes * 60 // self.fault_every)):
                slot_end = started + (index + 1) * self.fault_every
                peer, brk, heal = FAULTS[index % len(FAULTS)]
                print(f"[soak] {time.monotonic() - started:6.0f} s  {peer} {brk}", flush=True)
                record = await self.slot(peer, brk, heal, slot_end)
                self.records.append(record)
                came_back = (
                    "not yet" if record.recovered_s is None else f"{record.recovered_s:.0f} s"
                )
                print(
                    f"[soak]          errors {record.errors:g}, back after {came_back}", flush=True
                )
                await asyncio.sleep(max(0.0, slot_end - time.monotonic()))
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            ran_s = time.monotonic() - started

            # The end: every source up (with data newer than the last fault), Prometheus too.
            final_deadline = time.monotonic() + FINAL_WAIT
            all_up = prom_up = False
            while time.monotonic() < final_deadline:
                samples = await self.samples()
                all_up = all(_up(samples, s) for s in SOURCE_OF.values())
                prom_up = self.prometheus is None or await self.prometheus_up()
                if all_up and prom_up:
                    break
                await asyncio.sleep(2)
            samples = await self.samples()
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            rss_end, fds_end = rss_bytes(pid), await self.fds(pid)
            alive = exporter.child.proc.returncode is None
            tracebacks, error_lines = exporter.child.tracebacks, exporter.child.error_lines
            errors_end = _by_source(samples, "gridwatch_source_errors_total")
            ups = {s: _up(samples, s) for s in SOURCE_OF.values()}

        self.report(result, ran_s, (rss_start, rss_end), (fds_start, fds_end))
        for source in SOURCE_OF.values():
            result.measure(
                f"errors_{source}",
                f"Errors counted: {source}",
                errors_end.get(source, 0.0) - errors_start.get(source, 0.0),
            )
            result.measure(f"up_end_{source}", f"Up at the end: {source}", int(ups[source]))
        result.measure(
            "prometheus_up_end", "Prometheus scraping the exporter at the end", int(prom_up)
        )
        result.measure("exporter_alive", "Exporter process still running at the end", int(alive))
        result.measure("tracebacks", "Tracebacks in the exporter's log", tracebacks)
        result.measure("error_lines", "ERROR lines in the exporter's log", error_lines)
        result.targets += [
            Target(
                "all_up_end",
                f"every source and Prometheus's scrape up at the end of {self.length}",
                int(all_up and prom_up and alive),
                ">=",
                1,
            ),
        ]
        return result

    def report(
        self, result: Result, ran_s: float, rss: tuple[int, int], fds: tuple[int, int]
    ) -> None:
        growth = (rss[1] - rss[0]) / MB
        result.measure("minutes", "Soak length (fault slots), minutes", ran_s / 60, "min")
        result.measure("fault_every_s", "One fault every", self.fault_every, "s")
        result.measure("faults", "Faults injected", len(self.records))
        back = [r for r in self.records if r.recovered_s is not None]
        result.measure("faults_recovered", "Faults after which the source came back", len(back))
        if back:
            result.measure(
                "recovery_max_s",
                "Slowest recovery after a heal",
                max(r.recovered_s or 0 for r in back),
                "s",
            )
        result.measure("rss_start_mb", "Exporter RSS at the start", rss[0] / MB, "MB")
        result.measure("rss_end_mb", "Exporter RSS at the end", rss[1] / MB, "MB")
        result.measure(
            "rss_max_mb",
            f"Exporter RSS, max of {len(self.rss)} samples",
            max(self.rss, default=0) / MB,
            "MB",
        )
        result.measure("rss_growth_mb", "Exporter RSS growth, end − start", growth, "MB")
        result.measure("fds_start", "Exporter open fds at the start", fds[0])
        result.measure("fds_end", "Exporter open fds at the end", fds[1])
        result.measure("fd_growth", "Exporter open fds growth, end − start", fds[1] - fds[0])
        result.targets += [
            Target(
                "rss_growth_mb",
                f"RSS growth over {self.length}",
                growth,
                "<",
                MAX_RSS_GROWTH_MB,
                "MB",
            ),
            Target("fd_growth", f"open fd growth over {self.length}", fds[1] - fds[0], "<=", 0),
        ]
        for r in self.records:
            came = (
                "not within its slot"
                if r.recovered_s is None
                else f"back {r.recovered_s:.0f} s after the heal"
            )
            result.notes.append(f"fault: {r.peer} {r.action}: {r.errors:g} errors counted, {came}")
        if self.minutes < FULL_MINUTES:
            result.notes.append(
                f"**A short run: {self.minutes:g} minutes, not the {FULL_MINUTES} of the "
                f"target.** `make soak` runs the full hour."
            )
        result.notes += [
            f"{self.minutes:g}-minute soak: household simulators in their own process, a real "
            "Prometheus scraping the exporter every 5 s; each fault lasts "
            f"{HOLD:g} s (Prometheus: a restart), then the source has the rest of its slot to "
            "come back with fresh data. Outages polled every 30 s (10 min by default) so their "
            "faults reach the exporter; prices ask for nothing while both days are cached, so "
            "their faults are expected to show no errors.",
            f"Open fds: the fewest of {FD_READS} reads 1 s apart at each end; RSS from VmRSS.",
        ]


async def _stoppable(run: Coroutine[Any, Any, Result]) -> Result:
    """SIGTERM or SIGINT cancels the soak, so its simulators, exporter and Prometheus are
    stopped on the way out (a background job's SIGINT is ignored; SIGTERM still works)."""
    task = asyncio.ensure_future(run)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    return await task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0, help="length (default 60)")
    parser.add_argument(
        "--fault-every", type=float, default=180.0, metavar="S", help="seconds (default 180)"
    )
    args = parser.parse_args(argv)
    if args.fault_every <= HOLD:
        parser.error(f"--fault-every must be longer than a fault's {HOLD:g} s")
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix=children.temp_prefix("soak")) as tmp:
        started = time.perf_counter()
        try:
            result = asyncio.run(_stoppable(Soak(args, Path(tmp)).run()))
        except asyncio.CancelledError:
            print("[soak] stopped by a signal: nothing recorded", flush=True)
            return 1
        result.duration_s = time.perf_counter() - started
    write_json(result, machine, RESULTS)
    for t in result.targets:
        print(f"[soak] {t.label}: {t.value:g} {t.unit} ({'pass' if t.passed else 'FAIL'})")
    print(f"[soak] wrote {RESULTS / 'soak.json'} and {write_markdown(machine)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
