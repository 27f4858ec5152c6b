"""``alerts:`` — alert thresholds that no device section owns.

The exporter publishes them as ``gridwatch_alert_*`` gauges so the rules in
prometheus/rules/alerts.yml read the user's values instead of numbers baked into the rule file.
Levels that belong to a device stay with it (the fuse and imbalance levels under ``meters[]``,
the cell-delta levels under ``batteries``).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from gridwatch.config_types import Duration, Strict


def lead_label(seconds: float) -> str:
    """The ``lead`` label of an OutageSoon alert: whole minutes, e.g. ``30m``."""
    return f"{round(seconds / 60)}m"


class AlertsConfig(Strict):
    # BatteryLow: warning below the first, critical below the second state of charge (0–1).
    battery_low_soc_ratio: float = Field(default=0.2, gt=0, lt=1)
    battery_critical_soc_ratio: float = Field(default=0.1, gt=0, lt=1)
    # PhaseNearFuse: a phase's |I| / fuse at or above this (PhaseOverFuse is above 1.0).
    phase_near_fuse_ratio: float = Field(default=0.9, gt=0, le=1)
    # OutageSoon fires once per lead time before the next planned outage.
    outage_soon_leads: list[Duration] = Field(
        default_factory=lambda: [1800.0, 900.0], min_length=1, max_length=6
    )
    # BatteryWillNotLastOutage looks only at an outage in progress or starting within this time:
    # a battery that falls short of tomorrow's outage can still charge before it.
    battery_outage_horizon: Duration = 7200.0

    @field_validator("outage_soon_leads")
    @classmethod
    def _whole_minutes(cls, leads: list[float]) -> list[float]:
        for lead in leads:
            if lead < 60 or lead > 86_400 or lead % 60:
                raise ValueError("each lead time must be whole minutes between 1m and 24h")
        labels = [lead_label(lead) for lead in leads]
        if len(set(labels)) != len(labels):
            raise ValueError("lead times must differ")
        return sorted(leads, reverse=True)

    @model_validator(mode="after")
    def _check(self) -> AlertsConfig:
        if self.battery_critical_soc_ratio > self.battery_low_soc_ratio:
            raise ValueError("battery_critical_soc_ratio must be ≤ battery_low_soc_ratio")
        return self
