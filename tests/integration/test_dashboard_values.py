"""The numbers a household reads most are the exporter's own numbers, not just "some data".

The demo (all its simulators) feeds one exporter; the real Prometheus scrapes it every second
(set up as in test_dashboards.py, whose helpers this reuses). At one instant T — the time of a
scrape — each panel query below runs as Grafana sends it (variables at "All"), and its result
must equal the value computed independently from what the exporter said at T: its /metrics as
Prometheus scraped it at T (every raw `gridwatch_*` sample with timestamp T), its prices JSON
(`/api/v1/prices`) and its outages JSON (`/api/v1/outages`). The colours of the level-coloured
panels are checked too, the way Grafana picks them (tests/grafana_colours.py).

Nothing depends on the hour: T is whatever the last scrape was, and the expected values are
computed for T on the exporter's clock (the test's instant, tests/clock.py; Prometheus keeps the
machine's time, so T is translated by the constant offset between the two). The JSON answers
for "now", a moment after T; when a slot or outage boundary falls between the two (or local
midnight does), the comparison is simply repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch.app import Exporter
from gridwatch.core.clock import Clock
from gridwatch.dashboards import models
from gridwatch.dashboards.walk import panels, substitute
from tests.grafana_colours import colour, field_config, level_colour
from tests.integration.test_dashboards import (
    PromAPI,
    _all_values,
    _demo,
    _require,
    prometheus_now,
    scraping_prometheus,
)

pytestmark = [pytest.mark.integration, pytest.mark.clock]

DEADLINE_S = 90.0  # a guard against hangs; the loop ends at the first full agreement
QUARTER = 900
Samples = list[tuple[dict[str, str], float]]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class Instant:
    """One instant T: the panels' results and the exporter's own answers at T."""

    def __init__(self, api: PromAPI, t: float, raw: Samples, offset: float) -> None:
        self.api, self.t = api, t
        self.at = t + offset  # T on the exporter's clock: its days, slots and outages
        self.raw: dict[str, Samples] = defaultdict(list)
        for labels, value in raw:
            self.raw[labels["__name__"]].append((labels, value))
        self.boards = models()
        self.problems: list[str] = []
        self.checked: set[str] = set()  # what was compared, to see that nothing was skipped

    def panel(self, board: str, title: str) -> dict[str, Any]:
        return next(p for p in panels(self.boards[board]) if p["title"] == title)

    async def query(self, board: str, title: str, ref_id: str) -> Samples:
        """A panel query's instant result at T, as Grafana would send it."""
        target = next(t for t in self.panel(board, title)["targets"] if t["refId"] == ref_id)
        values = _all_values(self.boards[board])
        expr = substitute(target["expr"], values, range_s=86400, step_s=180, rate="4s")
        data = await self.api.get("query", query=expr, time=f"{self.t:.3f}")
        return [(s["metric"], float(s["value"][1])) for s in data["result"]]

    async def one(self, board: str, title: str, ref_id: str) -> float | None:
        result = await self.query(board, title, ref_id)
        if len(result) != 1:
            self.problems.append(f"{title} {ref_id}: {len(result)} series, wanted one")
            return None
        return result[0][1]

    def expect(self, what: str, got: float | None, wanted: float) -> None:
        self.checked.add(what)
        if got is None or not _close(got, wanted):
            self.problems.append(f"{what}: panel shows {got}, the exporter says {wanted}")

    def values(self, name: str, **match: str) -> list[float]:
        found = self.raw[name]
        return [v for labels, v in found if all(labels.get(k) == w for k, w in match.items())]


async def _scrape_instant(api: PromAPI, instance: str) -> tuple[float, Samples]:
    """The time of the last scrape and every raw gridwatch sample that scrape stored."""
    data = await api.get("query", query=f'timestamp(up{{instance="{instance}"}})')
    t = float(data["result"][0]["value"][1])
    data = await api.get(
        "query", query=f'{{__name__=~"gridwatch_.+", instance="{instance}"}}', time=f"{t:.3f}"
    )
    raw: Samples = []
    for series in data["result"]:
        stamp, value = series["value"]
        if abs(float(stamp) - t) < 1e-3:  # sampled by this very scrape, not an older one
            raw.append((series["metric"], float(value)))
    return t, raw


def _utc(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        return await response.json() if response.status == 200 else None


def _cheapest(slots: list[tuple[float, float]], quarters: int) -> tuple[float, float] | None:
    """Brute force over contiguous runs: (start, mean) of the lowest mean, earliest first."""
    best: tuple[float, float] | None = None
    for i in range(len(slots) - quarters + 1):
        run = slots[i : i + quarters]
        if any(b[0] - a[0] != QUARTER for a, b in itertools.pairwise(run)):
            continue
        mean = sum(p for _, p in run) / quarters
        if best is None or mean < best[1] - 1e-12:
            best = (run[0][0], mean)
    return best


async def _prices(now: Instant, session: aiohttp.ClientSession, url: str) -> None:
    """Price now, today's min/mean/max and "high", the bars' levels, the cheapest windows."""
    today_json = await _json(session, f"{url}/api/v1/prices")
    if today_json is None:
        now.problems.append("no prices JSON for today")
        return
    tz_day = dt.datetime.fromtimestamp(now.at, dt.UTC).astimezone(
        dt.datetime.fromisoformat(today_json["slots"][0]["start_local"]).tzinfo
    )
    if today_json["date"] != tz_day.date().isoformat():
        now.problems.append("local midnight passed between T and the JSON")
        return
    slots = [(_utc(s["start_utc"]), s["total"], s["label"]) for s in today_json["slots"]]
    totals = [p for _, p, _ in slots]
    low, mean, top = min(totals), sum(totals) / len(totals), max(totals)
    high = (mean + top) / 2
    current = next((p for start, p, _ in slots if start <= now.at < start + QUARTER), None)
    assert current is not None, "T outside today's slots"

    home, prices = "home.json", "prices.json"
    price_now = "Price now ($currency/kWh)"
    now.expect("Home price now", await now.one(home, price_now, "A"), current)
    now.expect("Home price now: mean level", await now.one(home, price_now, "B"), mean)
    now.expect("Home price now: high level", await now.one(home, price_now, "C"), high)
    stats = "Today min / mean / max ($currency/kWh)"
    for ref, wanted in zip("ABC", (low, mean, top), strict=True):
        now.expect(f"today {ref}", await now.one(prices, stats, ref), wanted)
    # Price now's colour, as Grafana picks it from the level queries.
    config = field_config(now.panel(home, price_now), {"B": mean, "C": high})
    if colour(current, config) != level_colour(current, mean, high):
        now.problems.append(f"price now {current} coloured {colour(current, config)}")

    # Every slot of today's bars in exactly the level its price is in.
    placed: dict[str, str] = {}
    for ref, level in zip("ABC", ("green", "yellow", "red"), strict=True):
        for labels, value in await now.query(prices, "Today ($currency/kWh)", ref):
            placed[labels["slot"]] = level
            price = next(p for _, p, label in slots if label == labels["slot"])
            now.expect(f"bar {labels['slot']}", value, price)
    for _, price, label in slots:
        if placed.get(label) != level_colour(price, mean, high):
            now.problems.append(f"bar {label} ({price}) is {placed.get(label)}")

    tomorrow_day = (tz_day.date() + dt.timedelta(days=1)).isoformat()
    tomorrow = await _json(session, f"{url}/api/v1/prices?date={tomorrow_day}")
    known = slots + [
        (_utc(s["start_utc"]), s["total"], s["label"]) for s in (tomorrow or {}).get("slots", [])
    ]
    first = now.at - now.at % QUARTER
    ahead = [(start, p) for start, p, _ in known if first <= start < now.at + 86400]
    starts = dict(
        (labels["hours"], value)
        for labels, value in await now.query(prices, "Cheapest window starts", "A")
    )
    means = dict(
        (labels["hours"], value)
        for labels, value in await now.query(prices, "Cheapest window mean ($currency/kWh)", "A")
    )
    for hours in ("1", "2", "3"):
        window = _cheapest(ahead, int(hours) * 4)
        if window is None:
            continue
        now.expect(f"cheapest {hours} h start", starts.get(hours), window[0] * 1000)
        now.expect(f"cheapest {hours} h mean", means.get(hours), window[1])


async def _grid(now: Instant) -> None:
    """Imbalance and load against the fuse, from the per-phase currents of the same scrape."""
    currents = defaultdict(dict)
    for labels, value in now.raw["gridwatch_p1_phase_current_amperes"]:
        currents[labels["meter"]][labels["phase"]] = abs(value)
    if not currents:
        now.problems.append("no phase currents at T")
        return
    meter, phases = next(iter(currents.items()))
    (fuse,) = now.values("gridwatch_p1_fuse_amperes", meter=meter)
    (warning,) = now.values("gridwatch_p1_phase_imbalance_warning_amperes", meter=meter)
    (critical,) = now.values("gridwatch_p1_phase_imbalance_critical_amperes", meter=meter)
    spread = max(phases.values()) - min(phases.values())
    board = "grid.json"
    now.expect("max imbalance", await now.one(board, "Max imbalance", "A"), spread)
    now.expect("imbalance warning", await now.one(board, "Max imbalance", "B"), warning)
    now.expect("imbalance critical", await now.one(board, "Max imbalance", "C"), critical)
    config = field_config(now.panel(board, "Max imbalance"), {"B": warning, "C": critical})
    if colour(spread, config) != level_colour(spread, warning, critical):
        now.problems.append(f"imbalance {spread} coloured {colour(spread, config)}")

    near = now.values("gridwatch_alert_phase_near_fuse_ratio") or [0.9]
    now.expect("near fuse", await now.one(board, "Phase load vs fuse", "B"), max(near))
    loads = {
        labels["phase"]: value
        for labels, value in await now.query(board, "Phase load vs fuse", "A")
        if labels.get("meter") == meter
    }
    config = field_config(now.panel(board, "Phase load vs fuse"), {"B": max(near)})
    for phase, amps in phases.items():
        now.expect(f"load {phase}", loads.get(phase), amps / fuse)
        ratio = amps / fuse
        if colour(ratio, config) != level_colour(ratio, 0.9 * max(near), max(near)):
            now.problems.append(f"load {phase} {ratio} coloured {colour(ratio, config)}")


async def _batteries(now: Instant) -> None:
    """SOC, cell delta (highest − lowest cell of the same scrape) and its levels."""
    soc = {
        labels.get("battery") or labels.get("inverter"): value
        for ref in "AB"
        for labels, value in await now.query("home.json", "Battery SOC", ref)
    }
    for name in ("gridwatch_battery_soc_ratio", "gridwatch_inverter_battery_soc_ratio"):
        for labels, value in now.raw[name]:
            device = labels.get("battery") or labels.get("inverter")
            now.expect(f"SOC {device}", soc.get(device), value)
    cells = defaultdict(list)
    for labels, value in now.raw["gridwatch_battery_cell_voltage_volts"]:
        cells[labels["battery"]].append(value)
    deltas = {
        labels["battery"]: value
        for labels, value in await now.query("batteries.json", "Cell delta", "A")
    }
    if not cells:
        now.problems.append("no cell voltages at T")
    for battery, volts in cells.items():
        got = deltas.get(battery)
        # The BMS reports its own delta in mV steps: equal to the cells' spread within 1 mV.
        if got is None or abs(got - (max(volts) - min(volts))) > 0.0011:
            now.problems.append(f"cell delta {battery}: {got} vs cells {max(volts) - min(volts)}")
    warning = min(now.values("gridwatch_battery_cell_delta_warning_volts"))
    critical = min(now.values("gridwatch_battery_cell_delta_critical_volts"))
    now.expect("delta warning", await now.one("batteries.json", "Cell delta", "B"), warning)
    now.expect("delta critical", await now.one("batteries.json", "Cell delta", "C"), critical)


async def _cost_and_outage(now: Instant, session: aiohttp.ClientSession, url: str) -> None:
    cost: dict[str, float] = defaultdict(float)
    for labels, value in now.raw["gridwatch_energy_period_cost"]:
        wanted = {"direction": "import", "period": "day", "price": "total"}
        if all(labels.get(k) == v for k, v in wanted.items()):
            cost[labels["meter"]] += value
    shown = {
        labels["meter"]: value
        for labels, value in await now.query("home.json", "Cost today ($currency)", "A")
    }
    if not cost:
        now.problems.append("no cost today at T")
    for meter, value in cost.items():
        now.expect(f"cost today {meter}", shown.get(meter), value)

    outages = await _json(session, f"{url}/api/v1/outages")
    following = (outages or {}).get("next_outage")
    got = await now.query("home.json", "Next outage", "A")
    if following is None:
        if got:
            now.problems.append(f"next outage shown {got}, the JSON has none")
        return
    start = _utc(following["start"]["utc"])
    now.expect("next outage", got[0][1] if len(got) == 1 else None, start * 1000)


async def _compare(
    api: PromAPI, session: aiohttp.ClientSession, exporter: Exporter, offset: float
) -> Instant:
    instance = f"127.0.0.1:{exporter.port}"
    t, raw = await _scrape_instant(api, instance)
    now = Instant(api, t, raw, offset)
    await _prices(now, session, exporter.url)
    await _grid(now)
    await _batteries(now)
    await _cost_and_outage(now, session, exporter.url)
    return now


async def test_panel_values_equal_the_exporters_own(tmp_path: Path, clock: Clock) -> None:
    _require("prometheus", "prometheus")
    _require("dbus-daemon", "dbus-daemon")
    async with contextlib.AsyncExitStack() as stack:
        exporter, _ = await _demo(stack, tmp_path / "data", clock)
        session, api = await scraping_prometheus(stack, exporter, tmp_path)
        offset = clock() - await prometheus_now(api)
        deadline = time.monotonic() + DEADLINE_S
        problems, checked, attempts = ["not compared yet"], set(), 0
        while problems and time.monotonic() < deadline:
            await asyncio.sleep(2)
            attempts += 1
            with contextlib.suppress(IndexError):  # before the first scrape
                now = await _compare(api, session, exporter, offset)
                problems, checked = now.problems, now.checked
    print(f"agreed after {attempts} comparisons: {sorted(checked)}")
    assert not problems, "panels and the exporter disagree:\n" + "\n".join(problems)
    # Each family of numbers was really compared (a missing series is a problem above too).
    for needle in ("price now", "today", "cheapest 3 h", "bar ", "imbalance", "load l1"):
        assert any(needle in what for what in checked), needle
    for needle in ("SOC house", "SOC smg", "delta warning", "cost today", "next outage"):
        assert any(needle in what for what in checked), needle
