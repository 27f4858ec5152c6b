"""The exporter's side of load automation: plans from the price book, peak shaving from the
meter's readings, exported as metrics and as `GET /api/v1/automation` for the receiver.

Priority inside the exporter: peak shaving beats the price schedule. Grid-loss shedding and a
person's override are the receiver's to apply (it owns the switches): docs/automation.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric

from gridwatch.core.state import StateStore
from gridwatch.energy.automation_config import AutomationConfig, LoadConfig
from gridwatch.energy.peak_shaving import PeakShaver, hour_start
from gridwatch.energy.schedule import QUARTER, Decision, PriceOf, plan
from gridwatch.sources.prices.analysis import slot_labels


class Automation:
    def __init__(
        self,
        config: AutomationConfig,
        price_of: PriceOf,
        slots_of_day: Callable[[dt.date], list[float]],
        tz: ZoneInfo,
        shaver: PeakShaver | None = None,
    ) -> None:
        self.config = config
        self._price_of = price_of
        self._slots_of_day = slots_of_day
        self._tz = tz
        self.shaver = shaver

    def scheduled(self, load: LoadConfig, now: float) -> Decision:
        current = now - now % QUARTER
        return plan(load, self._price_of, [current], now, self._tz)[0]

    def on_power(self, now: float, power_w: float | None) -> None:
        """A reading of the peak-shaving meter (never at scrape time: it may write the file)."""
        if self.shaver is None:
            return
        self.shaver.evaluate(now, power_w, lambda name: self._wants_on(name, now))

    def _wants_on(self, name: str, now: float) -> bool:
        load = self.config.load(name)
        return load is None or self.scheduled(load, now).on

    def desired(self, now: float) -> list[dict[str, Any]]:
        """Each load's wanted state now and why: peak shaving first, then its schedule."""
        shed: set[str] = set()
        if self.shaver is not None and self.shaver.last.hour == hour_start(now, self._tz):
            shed = set(self.shaver.last.shed)  # a shedding of an hour gone by is over
        out = []
        for load in self.config.loads:
            decision = self.scheduled(load, now)
            on, reason = decision.on, str(decision.reason)
            if load.name in shed:
                on, reason = False, "peak_shaving"
            out.append(
                {
                    "load": load.name,
                    "plug": load.plug,
                    "on": on,
                    "reason": reason,
                    "quarter_start": decision.start,
                    "price": decision.price,
                }
            )
        return out

    def day_plan(self, load: LoadConfig, day: dt.date, now: float) -> list[Decision]:
        return plan(load, self._price_of, self._quarters(day), now, self._tz)

    def _quarters(self, day: dt.date) -> list[float]:
        known = self._slots_of_day(day)
        if known:
            return known
        start = dt.datetime.combine(day, dt.time(), self._tz).timestamp()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self._tz).timestamp()
        return [start + i * QUARTER for i in range(int((end - start) // QUARTER))]

    # -- metrics -------------------------------------------------------------------------

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        planned = GaugeMetricFamily(
            "gridwatch_load_planned_on",
            "1 when a load's price schedule plans it on for this quarter of today or tomorrow, "
            "0 when off; reason says why (cheapest, below, above, not_chosen, outside, waiting, "
            "fallback). Planned by the exporter from the prices it holds.",
            labels=["load", "day", "slot", "reason"],
        )
        desired = GaugeMetricFamily(
            "gridwatch_load_desired_on",
            "1 when the automation wants the load on now, 0 off; reason: its schedule's, or "
            "peak_shaving. The receiver switches the plug to it (grid-loss shedding and a "
            "manual override win there).",
            labels=["load", "plug", "reason"],
        )
        today = dt.datetime.fromtimestamp(now, self._tz).date()
        for load in self.config.loads:
            for name, day in (("today", today), ("tomorrow", today + dt.timedelta(days=1))):
                decisions = self.day_plan(load, day, now)
                labels = slot_labels([d.start for d in decisions], self._tz)
                for d, label in zip(decisions, labels, strict=True):
                    planned.add_metric([load.name, name, label, d.reason], 1.0 if d.on else 0.0)
        for item in self.desired(now):
            desired.add_metric(
                [item["load"], item["plug"], item["reason"]], 1.0 if item["on"] else 0.0
            )
        yield planned
        yield desired
        if self.shaver is not None:
            yield from self._shaving_families()

    def _shaving_families(self) -> Iterator[Metric]:
        assert self.shaver is not None
        last = self.shaver.last
        meter = self.shaver.rule.meter
        yield from _per_meter(
            "gridwatch_peak_shaving_active",
            "1 while peak shaving keeps loads off because this hour would set a new counted "
            "capacity-fee peak, else 0.",
            meter,
            1.0 if last.active else 0.0,
        )
        shed = GaugeMetricFamily(
            "gridwatch_peak_shaving_load_shed",
            "1 for each load peak shaving keeps off now, 0 for the others it may shed.",
            labels=["meter", "load"],
        )
        for name in self.shaver.rule.loads:
            shed.add_metric([meter, name], 1.0 if name in last.shed else 0.0)
        yield shed
        yield from _per_meter(
            "gridwatch_peak_shaving_predicted_watts",
            "The clock hour's average power as the capacity fee would count it (weighted), "
            "predicted from the energy so far and the present power, after shedding.",
            meter,
            last.predicted_watts,
        )
        yield from _per_meter(
            "gridwatch_peak_shaving_limit_watts",
            "The weighted hourly average that would set a new counted peak, less the "
            "configured margin: peak shaving keeps the prediction under it.",
            meter,
            last.limit_watts,
        )

    # -- JSON API ------------------------------------------------------------------------

    def routes(self, clock: Callable[[], float]) -> list[web.RouteDef]:
        async def automation(_request: web.Request) -> web.Response:
            now = clock()
            body: dict[str, Any] = {"now": now, "loads": self.desired(now)}
            if self.shaver is not None:
                last = self.shaver.last
                body["peak_shaving"] = {
                    "meter": self.shaver.rule.meter,
                    "active": last.active,
                    "shed": list(last.shed),
                    "predicted_watts": last.predicted_watts,
                    "limit_watts": last.limit_watts,
                }
            return web.json_response(body)

        return [web.get("/api/v1/automation", automation)]


def _per_meter(name: str, doc: str, meter: str, value: float | None) -> Iterator[Metric]:
    """A gauge with the meter's one series; no family at all while the value is unknown."""
    if value is None:
        return
    family = GaugeMetricFamily(name, doc, labels=["meter"])
    family.add_metric([meter], value)
    yield family
