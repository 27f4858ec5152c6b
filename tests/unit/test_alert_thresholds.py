"""The `alerts:` section and its gridwatch_alert_* gauges, as a scrape shows them."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import generate_latest

from gridwatch.app import Exporter
from gridwatch.config import ConfigError, parse_config
from tests.helpers import parse_exposition, value


def scrape(config: dict[str, Any]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    exporter = Exporter(parse_config(config))
    return parse_exposition(generate_latest(exporter.registry).decode())


def test_defaults_are_exported_without_any_config() -> None:
    s = scrape({})
    assert value(s, "gridwatch_alert_battery_low_soc_ratio") == 0.2
    assert value(s, "gridwatch_alert_battery_critical_soc_ratio") == 0.1
    assert value(s, "gridwatch_alert_phase_near_fuse_ratio") == 0.9
    assert value(s, "gridwatch_alert_battery_outage_horizon_seconds") == 7200
    assert value(s, "gridwatch_alert_outage_soon_lead_seconds", lead="30m") == 1800
    assert value(s, "gridwatch_alert_outage_soon_lead_seconds", lead="15m") == 900
    leads = [k for k in s if k[0] == "gridwatch_alert_outage_soon_lead_seconds"]
    assert len(leads) == 2


def test_configured_values_replace_the_defaults() -> None:
    s = scrape(
        {
            "alerts": {
                "battery_low_soc_ratio": 0.35,
                "battery_critical_soc_ratio": 0.15,
                "phase_near_fuse_ratio": 0.8,
                "outage_soon_leads": ["10m", "1h"],
                "battery_outage_horizon": "4h",
            }
        }
    )
    assert value(s, "gridwatch_alert_battery_low_soc_ratio") == 0.35
    assert value(s, "gridwatch_alert_battery_critical_soc_ratio") == 0.15
    assert value(s, "gridwatch_alert_phase_near_fuse_ratio") == 0.8
    assert value(s, "gridwatch_alert_battery_outage_horizon_seconds") == 4 * 3600
    leads = {
        dict(labels)["lead"]: v
        for (name, labels), v in s.items()
        if name == "gridwatch_alert_outage_soon_lead_seconds"
    }
    assert leads == {"60m": 3600, "10m": 600}


@pytest.mark.parametrize(
    ("section", "path", "words"),
    [
        ({"battery_low_soc_ratio": 20}, "alerts.battery_low_soc_ratio", "less than 1"),
        ({"battery_low_soc_ratio": 0}, "alerts.battery_low_soc_ratio", "greater than 0"),
        (
            {"battery_low_soc_ratio": 0.1, "battery_critical_soc_ratio": 0.2},
            "alerts",
            "battery_critical_soc_ratio must be ≤ battery_low_soc_ratio",
        ),
        ({"phase_near_fuse_ratio": 1.2}, "alerts.phase_near_fuse_ratio", "less than or equal"),
        ({"outage_soon_leads": []}, "alerts.outage_soon_leads", "at least 1"),
        ({"outage_soon_leads": ["90s"]}, "alerts.outage_soon_leads", "whole minutes"),
        ({"outage_soon_leads": ["30m", "1800"]}, "alerts.outage_soon_leads", "must differ"),
        ({"outage_soon_leads": ["soon"]}, "alerts.outage_soon_leads[0]", "duration"),
        ({"battery_outage_horizon": "-1h"}, "alerts.battery_outage_horizon", "duration"),
        ({"battery_low_soc": 0.2}, "alerts.battery_low_soc", "unknown key"),
    ],
)
def test_invalid_values_name_the_key(section: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"alerts": section}, "site.yml")
    problems = dict(info.value.problems)
    assert path in problems, problems
    assert words in problems[path], problems
