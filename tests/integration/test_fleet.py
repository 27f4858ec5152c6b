"""Three sites forward into one central store, end to end on loopback with the real programs.

The demo's simulators feed one exporter (as tests/integration/test_dashboards.py runs them);
three sites scrape it each second and forward what they see to VictoriaMetrics behind vmauth,
each with its own token:

* ``kyiv``: Prometheus with the shipped rules and ``remote_write`` (the documented snippet);
* ``dacha``: the same, but its prometheus.yml claims ``site: kyiv`` (a copy-paste slip) —
  vmauth must still file its series under ``dacha``;
* ``school``: no Prometheus, vmagent with its on-disk queue.

Sharing one exporter keeps the test light; what differs between sites (token, forwarder,
queue) is each site's own. Then the central store is stopped for ``GRIDWATCH_FLEET_OUTAGE_S``
seconds (default 20: many scrape, flush and retry intervals; `make bench` runs the same with
three minutes, bench/fleet_outage.py) and started again: every sample each site produced in and
around the outage arrives exactly once. Finally every dashboard query runs against the central
store with a site selected, and the Fleet dashboard's queries have every site.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from gridwatch.binaries import Binary, free_port, prometheus_config, start_prometheus
from gridwatch.core.clock import Clock
from gridwatch.dashboards import models
from gridwatch.dashboards.walk import Query, queries, range_seconds, substitute
from gridwatch.fleet.processes import start_vmagent
from gridwatch.fleet.snippets import remote_write, vmagent_args
from gridwatch.sim.homewizard import demo as homewizard_demo
from gridwatch.sim.homewizard.simulator import SimulatorOptions
from gridwatch.sim.inverter import demo as inverter_demo
from gridwatch.sources.prices.source import PriceSource
from tests.integration.fleet_harness import Central, central, eventually
from tests.integration.test_dashboards import (
    EXEMPT,
    STEPS,
    TOMORROW_PANEL,
    _demo,
    _fast_rules,
    _refuse_one_download,
    _require,
)

# Not marked `clock`: the demo inside runs on the fixed test instant, and the rest compares
# samples by the time VictoriaMetrics, Prometheus and vmagent stamp them. Windows are asked on
# the store's own clock (Central.now), so a faked clock in this process would not skew them.
pytestmark = pytest.mark.integration

OUTAGE_S = float(os.environ.get("GRIDWATCH_FLEET_OUTAGE_S", "20"))
SCRAPE_S = 1
PROMETHEUS_SITES = ("kyiv", "dacha")
AGENT_SITE = "school"
SITES = (*PROMETHEUS_SITES, AGENT_SITE)
Key = frozenset[tuple[str, str]]


def _key(labels: dict[str, str]) -> Key:
    return frozenset((k, v) for k, v in labels.items() if k != "site")


async def _local_samples(
    session: aiohttp.ClientSession, prom: Binary, start: float, end: float
) -> dict[Key, list[int]]:
    """Every raw sample a site's Prometheus holds in (start, end], in ms by series."""
    window = int(end - start) + 2  # whole seconds, wider; _compare cuts to (start, end]
    async with session.get(
        f"{prom.url}/api/v1/query",
        params={"query": f'{{__name__=~".+"}}[{window}s]', "time": str(end)},
    ) as response:
        body = await response.json()
    out: dict[Key, list[int]] = {}
    for series in body["data"]["result"]:
        stamps = [round(float(t) * 1000) for t, v in series["values"] if not math.isnan(float(v))]
        out[_key(series["metric"])] = stamps
    return out


async def _central_samples(c: Central, site: str, start: float, end: float) -> dict[Key, list[int]]:
    """Every raw sample the central store holds for ``site`` in (start, end], in ms by series
    (duplicates kept: VictoriaMetrics stores what it is sent unless told to deduplicate)."""
    return {
        key: [t for t, _ in points]
        for key, points in (await _central_points(c, site, start, end)).items()
    }


async def _central_points(
    c: Central, site: str, start: float, end: float
) -> dict[Key, list[tuple[int, float]]]:
    headers = {"Authorization": f"Bearer {c.read_token}"}
    params = {"match[]": f'{{site="{site}"}}', "start": str(start), "end": str(end)}
    async with c.session.get(f"{c.url}/api/v1/export", params=params, headers=headers) as response:
        assert response.status == 200, await response.text()
        text = await response.text()
    out: dict[Key, list[tuple[int, float]]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        points = [
            (t, float(v))
            for t, v in zip(row["timestamps"], row["values"], strict=True)
            # Prometheus' staleness markers (a series that ended) come back as null or NaN; the
            # site's own range query leaves them out too.
            if start * 1000 < t <= end * 1000 and v is not None and not math.isnan(float(v))
        ]
        if points:
            out.setdefault(_key(row["metric"]), []).extend(points)
    return out


def _compare(
    local: dict[Key, list[int]], arrived: dict[Key, list[int]], start: float, end: float
) -> tuple[int, int, int, int]:
    """(produced, lost, duplicated, unknown) samples in (start, end]."""
    lo, hi = start * 1000, end * 1000
    produced = lost = duplicated = unknown = 0
    for key in local.keys() | arrived.keys():
        mine = Counter(t for t in local.get(key, []) if lo < t <= hi)
        theirs = Counter(t for t in arrived.get(key, []) if lo < t <= hi)
        produced += sum(mine.values())
        lost += sum((mine - theirs).values())
        duplicated += sum(n - 1 for n in theirs.values() if n > 1)
        unknown += len(set(theirs) - set(mine))
    return produced, lost, duplicated, unknown


def _agent_check(arrived: dict[Key, list[tuple[int, float]]]) -> tuple[int, int, list[str]]:
    """vmagent keeps no store to compare with, but a scrape stamps all its samples alike: each
    scrape (an ``up`` sample) must have arrived whole — the target's samples it counted
    (scrape_samples_post_metric_relabeling) plus the scrape's own series — and once; and no
    scrape may be missing between the first and the last. Returns (scrapes, samples, problems)."""
    problems: list[str] = []
    per_stamp: Counter[int] = Counter()
    counted: dict[int, float] = {}
    ups: list[int] = []
    auto = 0  # up and scrape_*: the series the scraper adds to each scrape (5 or 6 by version)
    for key, points in arrived.items():
        stamps = [t for t, _ in points]
        if len(stamps) != len(set(stamps)):
            problems.append(f"duplicates in {dict(key)}")
        per_stamp.update(stamps)
        name = dict(key).get("__name__", "")
        auto += name == "up" or name.startswith("scrape_")
        if name == "up":
            ups = sorted(stamps)
        elif name == "scrape_samples_post_metric_relabeling":
            counted.update(points)
    for t in ups:
        if per_stamp[t] != counted.get(t, -1) + auto:
            problems.append(
                f"scrape at {t}: {per_stamp[t]} samples, {counted.get(t)} + {auto} sent"
            )
    gaps = [b - a for a, b in itertools.pairwise(ups) if b - a > 2000 * SCRAPE_S]
    if gaps:
        problems.append(f"scrapes missing: gaps of {gaps} ms")
    return len(ups), sum(per_stamp.values()), problems


def _scrape_config(tmp_path: Path, exporter_port: int) -> Path:
    config = prometheus_config(
        exporter_targets=[f"127.0.0.1:{exporter_port}"], scrape_interval=f"{SCRAPE_S}s"
    )
    path = tmp_path / "school-scrape.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.timeout(300 + 2 * OUTAGE_S)
async def test_three_sites_outage_and_dashboards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    _require("prometheus", "prometheus")
    _require("dbus-daemon", "dbus-daemon")
    # As in test_dashboards: the grid goes away early, prices are asked for each second, and no
    # solar, so the panels that need those events or imports have data within the test.
    monkeypatch.setattr(inverter_demo, "OUTAGE", (8.0, 3600.0))
    monkeypatch.setattr(PriceSource, "check_interval", 1.0)
    monkeypatch.setattr(
        homewizard_demo, "SimulatorOptions", functools.partial(SimulatorOptions, pv_peak_w=0.0)
    )
    async with contextlib.AsyncExitStack() as stack:
        c = await stack.enter_async_context(central(tmp_path, *SITES))
        exporter, sim_url = await _demo(stack, tmp_path / "data", clock)
        target = [f"127.0.0.1:{exporter.port}"]
        proms: dict[str, Binary] = {}
        for name in PROMETHEUS_SITES:
            config = prometheus_config(
                exporter_targets=target,
                scrape_interval=f"{SCRAPE_S}s",
                evaluation_interval=f"{SCRAPE_S}s",
                rules_dir=_fast_rules(tmp_path / f"rules-{name}"),
                remote_write=[remote_write(c.url, c.token_file(name))],
                external_labels={"site": "kyiv"},  # right for kyiv, a slip for dacha
            )
            prom = start_prometheus(config, tmp_path / name)
            stack.callback(prom.stop)
            await prom.wait_ready()
            proms[name] = prom
        port = free_port()
        args = vmagent_args(
            AGENT_SITE,
            c.url,
            c.token_file(AGENT_SITE),
            scrape_config=_scrape_config(tmp_path, exporter.port),
            queue_dir=tmp_path / "queue",
            listen=f"127.0.0.1:{port}",
        )
        agent = start_vmagent(args, tmp_path / AGENT_SITE, port)
        stack.callback(agent.stop)
        await agent.wait_ready()
        session = c.session
        # The outage operator refuses a few downloads: the error panels have data to show.
        refusal = asyncio.create_task(_refuse_one_download(session, sim_url))

        # 1. Every site's series arrive, under the site its token names.
        async def all_sites() -> bool:
            found = await c.series("gridwatch_build_info", c.now() - 300, c.now())
            return {s.get("site") for s in found} == set(SITES)

        await eventually("every site's series", all_sites, timeout=60)
        unlabelled = await c.series('{__name__=~".+", site=""}', c.now() - 300, c.now())
        assert not unlabelled, f"series without a site: {unlabelled[:3]}"
        names: dict[str, set[str]] = {}

        async def same_series() -> bool:
            for site in SITES:
                found = await c.series(
                    f'{{site="{site}", __name__=~"gridwatch_.+"}}', c.now() - 300, c.now()
                )
                names[site] = {s["__name__"] for s in found}
            # vmagent forwards the exporter's series; the recording rules' (a:b) only Prometheus.
            exporters = {n for n in names["kyiv"] if ":" not in n}
            return (
                bool(exporters)
                and names["kyiv"] == names["dacha"]
                and exporters == names[AGENT_SITE]
            )

        with contextlib.suppress(AssertionError):
            await eventually("the same series from every site", same_series, timeout=30)
        assert names["kyiv"] == names["dacha"], names["kyiv"] ^ names["dacha"]
        assert {n for n in names["kyiv"] if ":" not in n} == names[AGENT_SITE]

        # 2. The central store goes away for a while and comes back: nothing lost, nothing twice.
        await asyncio.sleep(5)
        before = c.now() - 3
        await c.stop_storage()
        stopped = c.now()
        await asyncio.sleep(OUTAGE_S)
        pending = await _agent_pending(session, agent)
        await c.start_storage()
        restarted = c.now()
        await asyncio.sleep(5)
        after = c.now()
        window = (before, after)

        async def caught_up() -> dict[str, tuple[int, int, int, int]] | None:
            out = {}
            for name, prom in proms.items():
                local = await _local_samples(session, prom, *window)
                out[name] = _compare(local, await _central_samples(c, name, *window), *window)
                if out[name][1]:
                    return None
            return out

        counts = await eventually("the sites to catch up", caught_up, timeout=120 + OUTAGE_S)
        print(
            f"outage {restarted - stopped:.0f} s; per site "
            f"(produced, lost, duplicated, unknown): {counts}"
        )
        for name, (produced, lost, duplicated, unknown) in counts.items():
            assert produced > 0 and lost == 0 and duplicated == 0 and unknown == 0, (
                name,
                counts[name],
            )
            # The window really spans the outage: samples from inside it arrived afterwards.
        assert pending > 0, "vmagent queued nothing while the store was away"

        async def agent_done() -> tuple[int, int, list[str]] | None:
            result = _agent_check(await _central_points(c, AGENT_SITE, *window))
            return (
                result if result[0] >= (after - before) / SCRAPE_S - 2 and not result[2] else None
            )

        try:
            scrapes, samples, problems = await eventually(
                "vmagent to catch up", agent_done, timeout=120 + OUTAGE_S
            )
        except AssertionError:
            scrapes, samples, problems = _agent_check(await _central_points(c, AGENT_SITE, *window))
        print(
            f"{AGENT_SITE} (vmagent): {scrapes} scrapes, {samples} samples, "
            f"problems: {problems[:5]}"
        )
        assert not problems, problems[:10]
        per_scrape = samples / max(scrapes, 1)
        # What a day offline costs vmagent's disk queue (docs/fleet.md sizes it from this).
        print(
            f"vmagent queue after {OUTAGE_S:.0f} s: {pending:.0f} bytes, "
            f"{pending / (OUTAGE_S / SCRAPE_S * per_scrape):.2f} bytes per sample"
        )

        # 3. Every dashboard query, against the central store, with one site selected.
        await refusal
        await _dashboards_with_a_site(c, "kyiv")
        await _fleet_has_every_site(c)


async def _agent_pending(session: aiohttp.ClientSession, agent: Binary) -> float:
    async with session.get(f"{agent.url}/metrics") as response:
        text = await response.text()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("vm_persistentqueue_bytes_pending"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _run(
    c: Central, query: Query, dashboard: dict[str, Any], values: dict[str, str]
) -> list[dict[str, Any]]:
    """One panel query over the dashboard's default range, as Grafana sends it."""
    range_s = range_seconds(dashboard)
    step_s = range_s // STEPS
    rate = f"{max(step_s + SCRAPE_S, 4 * SCRAPE_S)}s"
    expr = substitute(query.expr, values, range_s=range_s, step_s=step_s, rate=rate)
    end = c.now()
    if query.instant:
        data = await c.get("query", query=expr, time=str(end))
    else:
        data = await c.get(
            "query_range", query=expr, start=str(end - range_s), end=str(end), step=str(step_s)
        )
    result: list[dict[str, Any]] = data["result"]
    return result


def _values(dashboard: dict[str, Any], site: str) -> dict[str, str]:
    values = {v["name"]: v["allValue"] for v in dashboard["templating"]["list"]}
    values["site"] = site  # one site picked, as Grafana sends it (no regex characters in names)
    return values


async def _dashboards_with_a_site(c: Central, site: str) -> None:
    """Every variable and every panel query (but those test_dashboards exempts, and tomorrow's
    prices, which depend on the hour) returns data with ``site`` selected."""
    boards = models()
    pending = [
        (q, boards[q.dashboard])
        for name, board in boards.items()
        for q in queries(name, board)
        if (q.dashboard, q.panel, q.ref_id) not in EXEMPT
        and (q.dashboard, q.panel) != TOMORROW_PANEL
    ]
    errors: dict[Query, str] = {}
    deadline = time.monotonic() + 90
    while pending and time.monotonic() < deadline:
        still = []
        for query, board in pending:
            try:
                if not await _run(c, query, board, _values(board, site)):
                    still.append((query, board))
            except AssertionError as exc:
                errors[query] = str(exc)[:300]
        pending = still
        if errors:
            break
        if pending:
            await asyncio.sleep(2)
    assert not errors, "queries the central store refused:\n" + "\n".join(
        f"  {q.dashboard} / {q.panel} / {q.ref_id}: {e}" for q, e in errors.items()
    )
    assert not pending, "panel queries without data in the central store:\n" + "\n".join(
        f"  {q.dashboard} / {q.panel} / {q.ref_id}: {q.expr}" for q, _ in pending
    )
    sites = await c.get("label/site/values")
    assert set(SITES) <= set(sites), sites


async def _fleet_has_every_site(c: Central) -> None:
    """The Fleet dashboard's per-site queries answer for every site; its counts count them."""
    board = models()["fleet.json"]
    values = {v["name"]: v["allValue"] for v in board["templating"]["list"]}
    for query in queries("fleet.json", board):
        result = await _run(c, query, board, values)
        assert result, (query.panel, query.ref_id, query.expr)
        if "by (site)" in query.expr and not query.expr.startswith("count("):
            found = {r["metric"].get("site") for r in result}
            assert found == set(SITES), (query.panel, query.ref_id, found)
    reporting = await c.get("query", query="count(group by (site) (gridwatch_build_info))")
    assert reporting["result"][0]["value"][1] == str(len(SITES))
