"""Metric families for planned outages, computed at scrape time from the cached schedule.

The schedule is downloaded every few minutes; "active now", "next outage" and the day labels
(today/tomorrow in the operator's zone) are evaluated at each scrape, so they move at midnight and
at window edges without a download. Unknown values are absent, never zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gridwatch.core.families.common import non_empty
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.energy.runtime import JOULES_PER_WH, battery_supply, energy_needed_joules
from gridwatch.sources.outages.config import OutagesConfig
from gridwatch.sources.outages.schedule import Schedule
from gridwatch.sources.outages.tracker import ScheduleTracker

CACHED = "computed at scrape time from the cached operator schedule"


def current_schedule(
    store: StateStore, key: SourceKey, tracker: ScheduleTracker, now: float
) -> Schedule | None:
    """The live reading if fresh, else the schedule restored from the state file if not stale."""
    reading = store.fresh(key, now)
    if isinstance(reading, Schedule):
        return reading
    return tracker.current(now)


def _g(name: str, doc: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=["queue", *labels])


class OutageFamilies:
    def __init__(self, config: OutagesConfig, key: SourceKey, tracker: ScheduleTracker) -> None:
        self._config = config
        self._key = key
        self._tracker = tracker

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        queue = self._config.queue
        tracker = self._tracker
        info = GaugeMetricFamily(
            "gridwatch_outage_schedule_info",
            "The configured outage-schedule queue and its operator (config), always 1.",
            labels=["queue", "operator"],
        )
        info.add_metric([queue, tracker.operator], 1)
        fetched = _g(
            "gridwatch_outage_schedule_fetched_timestamp_seconds",
            "When the schedule in use was downloaded from the operator (absent when none is "
            "fresh enough).",
        )
        active = _g(
            "gridwatch_outage_schedule_outage_active",
            f"1 during a planned outage, 0 outside; absent when today is not published ({CACHED}).",
        )
        start = _g(
            "gridwatch_outage_schedule_next_outage_start_timestamp_seconds",
            "Start of the outage in progress, else of the next one; absent when not known "
            f"({CACHED}).",
        )
        end = _g(
            "gridwatch_outage_schedule_next_outage_end_timestamp_seconds",
            "End of the outage in progress, else of the next one (touching windows merged); "
            f"absent when not known ({CACHED}).",
        )
        published = _g(
            "gridwatch_outage_schedule_day_published",
            "1 if the operator published the day's schedule for the queue (even with no "
            f"outages), 0 if there is no information ({CACHED}).",
            "day",
        )
        planned = _g(
            "gridwatch_outage_schedule_planned_outage_seconds",
            "Planned outage time on a published day, DST-correct; absent when not published "
            f"({CACHED}).",
            "day",
        )
        approved = _g(
            "gridwatch_outage_schedule_approved_timestamp_seconds",
            f"When the operator approved the day's schedule (scheduleApprovedSince; {CACHED}).",
            "day",
        )
        changes = CounterMetricFamily(
            "gridwatch_outage_schedule_changes",
            "Downloads whose windows differed from the previous one for today or a later day "
            "(not midnight roll-over, not restarts); persisted in the state file.",
            labels=["queue"],
        )
        changes.add_metric([queue], tracker.changes)
        last_change = _g(
            "gridwatch_outage_schedule_last_change_timestamp_seconds",
            "When gridwatch last saw the published windows change (persisted).",
        )
        if tracker.last_change is not None:
            last_change.add_metric([queue], tracker.last_change)

        schedule = current_schedule(store, self._key, tracker, now)
        outage: tuple[float, float] | None = None
        if schedule is not None:
            fetched.add_metric([queue], schedule.received_at)
            on = schedule.active(now)
            if on is not None:
                active.add_metric([queue], 1.0 if on else 0.0)
            outage = schedule.current_or_next(now)
            if outage is not None:
                start.add_metric([queue], outage[0])
                end.add_metric([queue], outage[1])
            today = schedule.local_date(now)
            for label, day in (("today", today), ("tomorrow", today + timedelta(days=1))):
                published.add_metric([queue, label], 1.0 if schedule.published(day) else 0.0)
                entry = schedule.days.get(day)
                if entry is not None:
                    planned.add_metric([queue, label], entry.planned_seconds)
                    if entry.approved_at is not None:
                        approved.add_metric([queue, label], entry.approved_at)
        yield from non_empty(
            (info, fetched, active, start, end, published, planned, approved, changes, last_change)
        )
        yield from non_empty(self._battery(store, now, outage))

    def _battery(
        self, store: StateStore, now: float, outage: tuple[float, float] | None
    ) -> list[Metric]:
        supply = battery_supply(store.fresh_readings(now=now), self._config.battery_reserve_ratio)
        if supply is None:
            return []
        queue = self._config.queue
        src = "from the fresh BMS packs (summed), else the inverter"
        energy = _g(
            "gridwatch_outage_battery_energy_joules",
            f"Usable battery energy now above the configured reserve, {src}.",
        )
        load = _g(
            "gridwatch_outage_battery_load_watts",
            "Present load on the battery: inverter AC output, else the packs' discharge power.",
        )
        runtime = _g(
            "gridwatch_outage_battery_runtime_seconds",
            "Estimated battery runtime at the present load (absent when nothing is drawn).",
        )
        needed = _g(
            "gridwatch_outage_energy_needed_joules",
            "Energy to ride through the rest of the current, else the whole next outage, at "
            "outages.typical_load_watts if set, else the present load.",
        )
        margin = _g(
            "gridwatch_outage_battery_margin_joules",
            "Usable battery energy minus the energy needed for the next outage (negative: the "
            "battery will not last).",
        )
        energy_j = supply.energy_wh * JOULES_PER_WH if supply.energy_wh is not None else None
        if energy_j is not None:
            energy.add_metric([queue], energy_j)
        if supply.load_watts is not None:
            load.add_metric([queue], supply.load_watts)
        seconds = supply.runtime_seconds()
        if seconds is not None:
            runtime.add_metric([queue], seconds)
        need_load = self._config.typical_load_watts or supply.load_watts
        need = energy_needed_joules(outage, now, need_load)
        if need is not None:
            needed.add_metric([queue], need)
            if energy_j is not None:
                margin.add_metric([queue], energy_j - need)
        return [energy, load, runtime, needed, margin]
