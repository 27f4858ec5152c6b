"""Metric families for the grid state that gridwatch derives from the inverters' and meters'
signals (``energy/grid.py``), built from memory on every scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from gridwatch.core.families.common import non_empty
from gridwatch.core.state import StateStore
from gridwatch.energy.grid import GridTracker


class GridFamilies:
    """``gridwatch_grid_*``: the debounced grid state, per signal and combined."""

    def __init__(self, tracker: GridTracker) -> None:
        self._tracker = tracker

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "gridwatch_grid_up",
            "1 if the grid is up, 0 if down, computed by gridwatch from the configured signals "
            "(inverter mains voltage and frequency, P1 voltages), debounced over consecutive "
            "polls; absent while no signal is known (failed polls).",
        )
        changed = GaugeMetricFamily(
            "gridwatch_grid_last_change_timestamp_seconds",
            "When the grid last went up or down (first poll that saw the new state), computed "
            "by gridwatch and kept across restarts; absent until a change was seen.",
        )
        signal = GaugeMetricFamily(
            "gridwatch_grid_signal_up",
            "Debounced grid presence as seen by one device (source inverter or homewizard), "
            "computed by gridwatch; absent while that device's polls fail.",
            labels=["source", "device"],
        )
        state = self._tracker.up
        if state is not None:
            up.add_metric([], 1.0 if state else 0.0)
        if self._tracker.changed_at is not None:
            changed.add_metric([], self._tracker.changed_at)
        for (source, device), debounce in sorted(self._tracker.signals.items()):
            if debounce.current is not None:
                signal.add_metric([source, device], 1.0 if debounce.current else 0.0)
        return non_empty((up, changed, signal))
