"""The ``alerts:`` thresholds as gauges, so alert rules follow the user's config.

Always exported (like the fuse gauge): a rule should never have to guess whether a missing
threshold means "not configured" or "exporter down". The rules still fall back to the defaults
with ``or on() vector(…)`` for an exporter that predates a key.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from gridwatch.core.component import Component, Runtime
from gridwatch.core.state import StateStore
from gridwatch.core.thresholds_config import AlertsConfig, lead_label


class ThresholdFamilies:
    def __init__(self, config: AlertsConfig) -> None:
        self._config = config

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        c = self._config
        # (metric name after gridwatch_alert_, config key under alerts:, value)
        singles = (
            ("battery_low_soc_ratio", "battery_low_soc_ratio", c.battery_low_soc_ratio),
            (
                "battery_critical_soc_ratio",
                "battery_critical_soc_ratio",
                c.battery_critical_soc_ratio,
            ),
            ("phase_near_fuse_ratio", "phase_near_fuse_ratio", c.phase_near_fuse_ratio),
            ("battery_outage_horizon_seconds", "battery_outage_horizon", c.battery_outage_horizon),
        )
        for name, key, value in singles:
            yield GaugeMetricFamily(
                f"gridwatch_alert_{name}", f"Alert threshold from config (alerts.{key}).", value
            )
        leads = GaugeMetricFamily(
            "gridwatch_alert_outage_soon_lead_seconds",
            "OutageSoon fires this long before a planned outage, once per lead "
            "(alerts.outage_soon_leads).",
            labels=["lead"],
        )
        for lead in c.outage_soon_leads:
            leads.add_metric([lead_label(lead)], lead)
        yield leads


def component(runtime: Runtime) -> Component:
    return Component(builders=[ThresholdFamilies(runtime.config.alerts)])
