"""Every variable and every panel query of every dashboard returns data from a real Prometheus.

The demo's simulators (all of `gridwatch demo`'s parts: P1 meter, prices, inverter behind an
Eybond dongle, two JK packs on a fake BlueZ, the outage operator) feed one exporter; the real
/usr/bin/prometheus scrapes it every second with the project's own rule files, evaluated every
second. Then each panel's PromQL — with the variables at their default ("All") and the
dashboard's default range — goes through Prometheus' HTTP API: no errors, non-empty results.

Two things of the demo are brought forward so they happen within the test: the inverter is
polled every second and the grid goes away 8 s after the start (the demo waits two minutes),
and the outage operator refuses downloads for a few seconds (forbidden), so the grid-loss
history, GridDown and the error panels have real data.

The simulators and the exporter run on the test's clock (tests/clock.py), Prometheus on the
machine's: panels query instants, so the two need not agree. By default the clock starts 30 s
before tomorrow's prices are published (13:00 CET), so one run sees the Tomorrow panel both empty
(saying why) and filled; `make test-clock` runs it at other instants, where whatever state
tomorrow's prices are in at each moment is checked.

Skips without prometheus or dbus-daemon, except under CI=true where they must be installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import yaml

from gridwatch.app import Exporter
from gridwatch.binaries import prometheus_config, start_prometheus
from gridwatch.core.clock import Clock
from gridwatch.dashboards import models
from gridwatch.dashboards.model import SITE_VAR
from gridwatch.dashboards.walk import Query, queries, range_seconds, substitute
from gridwatch.demo import PARTS, builtin_config
from gridwatch.sim.homewizard import demo as homewizard_demo
from gridwatch.sim.homewizard.simulator import SimulatorOptions
from gridwatch.sim.inverter import demo as inverter_demo
from gridwatch.sources.prices.source import CET, PriceSource

pytestmark = [pytest.mark.integration, pytest.mark.clock]

RULES = Path(__file__).resolve().parents[2] / "prometheus" / "rules"
STEPS = 480  # points per range query: a divisor of every default range, so `now` is a step
SCRAPE_S = 1
DEADLINE_S = 90.0  # a guard against hangs; the loop ends as soon as every query has data
TOMORROW_PANEL = ("prices.json", "Tomorrow ($currency/kWh)")
PUBLISHED_AT = dt.time(13, 0)  # CET, the simulator's and the exporter's publication time
# After publication: the price source asks each second here, then a scrape and an evaluation.
PUBLICATION_LAG_S = 10.0

# Panels whose data cannot exist in a fresh demo. Each still runs (no error allowed); the
# reason says what a real installation needs before it shows something.
EXEMPT: dict[tuple[str, str, str], str] = {
    ("prices.json", "Billed power", "A"): "counted peaks are complete clock hours",
    ("prices.json", "Counted peak hours this month", "A"): "counted peaks are complete hours",
    ("prices.json", "Counted peak hours this month", "B"): "counted peaks are complete hours",
    ("outages.json", "Schedule updated", "A"): (
        "the demo operator's windows change every 5 minutes; no change seen yet"
    ),
    ("inverter.json", "Energy per day (inverter counters)", "A"): (
        "the demo's SMG-II register map has no energy counters (SMX-II and 11K maps do)"
    ),
    **{
        ("inverter.json", panel, ref): "the demo's SMG-II is single-phase (a Deye SG04LP3 fills it)"
        for panel, refs in (
            ("Power per phase (three-phase units)", "AB"),
            ("Mains voltage vs 207/253 V", "CD"),
        )
        for ref in refs
    },
}


def _require(binary: str, package: str) -> None:
    if shutil.which(binary) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{binary} is required in CI (apt-get install {package})")
        pytest.skip(f"{binary} not installed (apt-get install {package})")


def _fast_rules(target: Path) -> Path:
    """The shipped rule files with every group evaluated each second (energy.yml says 1m)."""
    target.mkdir()
    for path in sorted(RULES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in data.get("groups", []):
            group["interval"] = f"{SCRAPE_S}s"
        (target / path.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target


class PromAPI:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def get(self, path: str, **params: str) -> Any:
        async with self.session.get(f"{self.url}/api/v1/{path}", params=params) as response:
            body = await response.json()
        if body.get("status") != "success":
            raise PromError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]


async def prometheus_now(api: PromAPI) -> float:
    """Prometheus' own time: its samples carry it, whatever clock the test gives the exporter
    (and under `make test-clock` this process's clock is moved, Prometheus' is not)."""
    data = await api.get("query", query="time()")
    return float(data["result"][0])


class PromError(Exception):
    pass


def _all_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """The default selection of every variable: "All", which Grafana sends as allValue."""
    out = {}
    for variable in dashboard["templating"]["list"]:
        assert variable["current"]["value"] == ["$__all"], variable["name"]
        out[variable["name"]] = variable["allValue"]
    return out


async def _variable_values(
    api: PromAPI, dashboard: dict[str, Any], start: float, end: float
) -> dict[str, list[str]]:
    """What each variable's label_values() query offers, as Grafana asks the series API."""
    found: dict[str, list[str]] = {}
    values = _all_values(dashboard)
    for variable in dashboard["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"]["query"])
        assert match, variable["query"]
        selector = substitute(match.group(1), values, range_s=0, step_s=1, rate="1m")
        series = await api.get(
            "series", **{"match[]": selector, "start": str(start), "end": str(end)}
        )
        found[variable["name"]] = sorted({s[match.group(2)] for s in series if match.group(2) in s})
    return found


async def _run(api: PromAPI, query: Query, dashboard: dict[str, Any], end: float) -> int:
    """Series returned by one panel query over the dashboard's default range."""
    range_s = range_seconds(dashboard)
    step_s = range_s // STEPS
    # Grafana: $__rate_interval = max(interval + scrape interval, 4 × scrape interval).
    rate = f"{max(step_s + SCRAPE_S, 4 * SCRAPE_S)}s"
    expr = substitute(query.expr, _all_values(dashboard), range_s=range_s, step_s=step_s, rate=rate)
    if query.instant:
        data = await api.get("query", query=expr, time=str(end))
    else:
        data = await api.get(
            "query_range", query=expr, start=str(end - range_s), end=str(end), step=str(step_s)
        )
    return len(data["result"])


def _tomorrow_state(now: float) -> str | None:
    """ "published" or "unpublished" for the local day after ``now``; None just after the
    publication, while the exporter may or may not have fetched it yet."""
    local = dt.datetime.fromtimestamp(now, CET)
    published = dt.datetime.combine(local.date(), PUBLISHED_AT, CET).timestamp()
    if now < published:
        return "unpublished"
    return "published" if now >= published + PUBLICATION_LAG_S else None


async def _demo(
    stack: contextlib.AsyncExitStack, data_dir: Path, clock: Clock
) -> tuple[Exporter, str]:
    """All demo parts and the exporter, as `gridwatch demo` runs them; returns the exporter and
    the outage simulator's base URL."""
    config = builtin_config()
    for part in PARTS:
        config, _ = await part(config, stack, clock)
    assert config.batteries is not None, "the battery demo part needs dbus-daemon"
    assert config.outages is not None and config.outages.url
    # Poll the operator every 2 s so the refused download below comes quickly, and the inverter
    # every second so the grid state is confirmed (3 polls) before the outage and after it.
    outages = config.outages.model_copy(update={"interval": 2.0})
    inverters = [i.model_copy(update={"interval": 1.0}) for i in config.inverters]
    # Tomorrow's prices are asked for every second until published (the default is 15 min).
    assert config.prices is not None
    prices = config.prices.model_copy(update={"retry_interval": 1.0})
    config = config.model_copy(
        update={
            "outages": outages,
            "inverters": inverters,
            "prices": prices,
            "exporter": config.exporter.model_copy(update={"port": 0}),
            "site": config.site.model_copy(update={"data_dir": data_dir}),
        }
    )
    exporter = Exporter(config, clock=clock)
    await exporter.start()
    stack.push_async_callback(exporter.stop)
    return exporter, config.outages.url


async def scraping_prometheus(
    stack: contextlib.AsyncExitStack, exporter: Exporter, folder: Path
) -> tuple[aiohttp.ClientSession, PromAPI]:
    """The real Prometheus scraping ``exporter`` every second with the shipped rules evaluated
    every second; stopped by ``stack``."""
    config = prometheus_config(
        exporter_targets=[f"127.0.0.1:{exporter.port}"],
        scrape_interval=f"{SCRAPE_S}s",
        evaluation_interval=f"{SCRAPE_S}s",
        rules_dir=_fast_rules(folder / "rules"),
    )
    prom = start_prometheus(config, folder / "prometheus")
    stack.callback(prom.stop)
    await prom.wait_ready()
    session = await stack.enter_async_context(aiohttp.ClientSession())
    return session, PromAPI(session, prom.url)


async def _refuse_one_download(session: aiohttp.ClientSession, sim_url: str) -> None:
    """The operator geo-blocks us for a few polls, then serves again (a real failure reason)."""
    parts = urlsplit(sim_url)
    base = f"{parts.scheme}://{parts.netloc}"
    async with session.post(f"{base}/sim/mode", params={"mode": "forbidden"}) as response:
        assert response.status == 200
    await asyncio.sleep(5)
    async with session.post(f"{base}/sim/mode", params={"mode": "ok"}) as response:
        assert response.status == 200


async def test_every_variable_and_panel_query_returns_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    _require("prometheus", "prometheus")
    _require("dbus-daemon", "dbus-daemon")
    dashboards = models()
    all_queries = [q for name, d in dashboards.items() for q in queries(name, d)]
    keys = {(q.dashboard, q.panel, q.ref_id) for q in all_queries}
    assert set(EXEMPT) <= keys, f"exemptions for panels that no longer exist: {set(EXEMPT) - keys}"
    monkeypatch.setattr(inverter_demo, "OUTAGE", (8.0, 3600.0))
    monkeypatch.setattr(PriceSource, "check_interval", 1.0)
    # A house without solar panels draws from the grid at every instant, so the panels built on
    # imported energy (capacity fee, this hour so far, price paid) have data whatever the hour;
    # with the demo's panels a sunny midday or a weekend can leave them legitimately empty.
    monkeypatch.setattr(
        homewizard_demo, "SimulatorOptions", functools.partial(SimulatorOptions, pv_peak_w=0.0)
    )
    tomorrow = [q for q in all_queries if (q.dashboard, q.panel) == TOMORROW_PANEL]
    assert len(tomorrow) == 3, "the Tomorrow panel's queries (one per price level)"
    seen: dict[str, list[float]] = {"unpublished": [], "published": []}
    shown_early: dict[Query, int] = {}

    async with contextlib.AsyncExitStack() as stack:
        exporter, sim_url = await _demo(stack, tmp_path / "data", clock)
        session, api = await scraping_prometheus(stack, exporter, tmp_path)
        await asyncio.sleep(3)  # the first polls: the operator's schedule is downloaded
        refusal = asyncio.create_task(_refuse_one_download(session, sim_url))

        started = time.monotonic()
        deadline = started + DEADLINE_S
        first_state = _tomorrow_state(clock())
        # Other panels about tomorrow (the loads planned on tomorrow's prices) have data only
        # once tomorrow is published: required then, not before.
        after_publication = [
            q
            for q in all_queries
            if 'day="tomorrow"' in q.expr
            and q not in tomorrow
            and (q.dashboard, q.panel, q.ref_id) not in EXEMPT
        ]
        pending = [
            q
            for q in all_queries
            if (q.dashboard, q.panel, q.ref_id) not in EXEMPT
            and q not in tomorrow
            and q not in after_publication
        ]
        tomorrow_done = False
        errors: dict[Query, str] = {}
        empty_variables: dict[str, list[str]] = {}
        while True:
            end = await prometheus_now(api)
            still: list[Query] = []
            for query in pending:
                try:
                    if await _run(api, query, dashboards[query.dashboard], end) == 0:
                        still.append(query)
                except PromError as exc:
                    errors[query] = str(exc)
            pending = still
            # Tomorrow's panel: empty before publication, filled after it, whatever the hour.
            state = _tomorrow_state(clock())
            counts = {q: await _run(api, q, dashboards[q.dashboard], end) for q in tomorrow}
            if state == "unpublished":
                shown_early.update({q: n for q, n in counts.items() if n})
                seen[state].append(clock())
            # The bars are split by level (below mean, above, high): one level may be empty.
            tomorrow_done = state == "unpublished" or (
                state == "published" and any(counts.values())
            )
            if state == "published" and tomorrow_done:
                seen[state].append(clock())
            if state == "published":
                pending += after_publication
                after_publication = []
            empty_variables = {}
            for name, dashboard in dashboards.items():
                start = end - range_seconds(dashboard)
                for variable, found in (await _variable_values(api, dashboard, start, end)).items():
                    # A single site's Prometheus has no site label (only a central store has,
                    # tests/integration/test_fleet.py): "All" (.*) then matches every series.
                    if not found and variable != SITE_VAR.name:
                        empty_variables.setdefault(name, []).append(variable)
            done = not pending and not empty_variables and tomorrow_done
            if first_state == "unpublished" and _tomorrow_state(clock()) != "unpublished":
                done = done and bool(seen["published"])  # the run crossed publication: see it
            if errors or done or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
        await refusal
        # The exempt queries must at least be valid PromQL.
        for query in all_queries:
            if (query.dashboard, query.panel, query.ref_id) in EXEMPT:
                try:
                    await _run(api, query, dashboards[query.dashboard], await prometheus_now(api))
                except PromError as exc:
                    errors[query] = str(exc)

    print(f"every query answered after {time.monotonic() - started:.0f} s")
    assert not errors, "queries Prometheus refused:\n" + "\n".join(
        f"  {q.dashboard} / {q.panel} / {q.ref_id}: {e}\n    {q.expr}" for q, e in errors.items()
    )
    assert not empty_variables, f"variables without values: {empty_variables}"
    assert not pending, "panel queries without data:\n" + "\n".join(
        f"  {q.dashboard} / {q.panel} / {q.ref_id}: {q.expr}" for q in pending
    )
    assert not shown_early, f"tomorrow's prices shown before publication: {shown_early}"
    assert tomorrow_done, "the Tomorrow panel has no data although tomorrow is published"
    if first_state == "unpublished":
        assert seen["unpublished"], "the run began before publication but never saw it so"
    at = dt.datetime.fromtimestamp(clock(), CET)
    observed = {state: len(times) for state, times in seen.items()}
    print(f"tomorrow's prices, run ending {at:%Y-%m-%d %H:%M} CET, rounds seen: {observed}")
