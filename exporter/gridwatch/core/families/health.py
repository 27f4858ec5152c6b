"""Metric families about gridwatch itself: build info and the health of every source."""

from __future__ import annotations

import platform
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gridwatch import __version__
from gridwatch.core.families.common import non_empty
from gridwatch.core.state import StateStore

LABELS = ["source", "device"]


def build_info() -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "gridwatch_build_info",
        "gridwatch version and Python version, always 1.",
        labels=["version", "python_version"],
    )
    info.add_metric([__version__, platform.python_version()], 1)
    yield info


def source_health(store: StateStore, now: float) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "gridwatch_source_up",
        "1 if the last read of this source succeeded, 0 if it failed (reason in errors_total).",
        labels=LABELS,
    )
    last_success = GaugeMetricFamily(
        "gridwatch_source_last_success_timestamp_seconds",
        "Unix time of the last successful read of this source.",
        labels=LABELS,
    )
    duration = GaugeMetricFamily(
        "gridwatch_source_poll_duration_seconds",
        "How long the last poll of this source took (absent for push-only updates).",
        labels=LABELS,
    )
    errors = CounterMetricFamily(
        "gridwatch_source_errors",
        "Failed reads of this source by reason, counted since gridwatch started.",
        labels=[*LABELS, "reason"],
    )
    updates = CounterMetricFamily(
        "gridwatch_source_updates",
        "Readings accepted from this source (polled or pushed) since gridwatch started.",
        labels=LABELS,
    )
    push = GaugeMetricFamily(
        "gridwatch_source_push_connected",
        "1 while the source's push stream (e.g. HomeWizard WebSocket) is connected, else 0.",
        labels=LABELS,
    )
    for health in store.health():
        labels = [health.key.source, health.key.device]
        if health.up is not None:
            up.add_metric(labels, 1.0 if health.up else 0.0)
        if health.last_success is not None:
            last_success.add_metric(labels, health.last_success)
        if health.poll_duration is not None:
            duration.add_metric(labels, health.poll_duration)
        for reason, count in sorted(health.errors.items()):
            errors.add_metric([*labels, reason], count)
        updates.add_metric(labels, health.updates)
        if health.push_connected is not None:
            push.add_metric(labels, 1.0 if health.push_connected else 0.0)
    yield from non_empty((up, last_success, duration, errors, updates, push))
