"""The colour Grafana gives a stat/bar-gauge value, following its own code: "Config from query
results" sets field config from the config queries' values (configFromQuery.ts), then the
display processor picks the threshold step (scale.ts: `getActiveThresholdForValue`): absolute
thresholds compare the value, percentage thresholds compare ``(value − min) / (max − min)``
× 100 — the last step whose value is at or below it wins (``>=``, so NaN from equal ends matches
none), the first step being the base (−Infinity).
"""

from __future__ import annotations

import math
from typing import Any


def field_config(panel: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """The config of the panel's value fields after its configFromData transformations, given
    each config query's single value by refId (a missing query leaves the config as it was)."""
    config = dict(panel["fieldConfig"]["defaults"])
    for transformation in panel.get("transformations", []):
        if transformation["id"] != "configFromData":
            continue
        options = transformation["options"]
        value = values.get(options["configRefId"])
        if value is None:
            continue
        for mapping in options["mappings"]:
            if mapping["handlerKey"] in ("min", "max", "decimals"):
                config[mapping["handlerKey"]] = value
    return config


def colour(value: float, config: dict[str, Any]) -> str:
    thresholds = config["thresholds"]
    checked = value
    if thresholds["mode"] == "percentage":
        low, high = config["min"], config["max"]
        if high != low:
            checked = (value - low) / (high - low) * 100
        else:  # JavaScript's x / 0
            checked = math.nan if value == low else math.copysign(math.inf, value - low)
    active = thresholds["steps"][0]["color"]
    for step in thresholds["steps"][1:]:
        if checked >= step["value"]:
            active = step["color"]
    return str(active)


def level_colour(value: float, warning: float, critical: float) -> str:
    """What the docs promise: green below the warning level, yellow from it, red from the
    critical level."""
    if value >= critical:
        return "red"
    return "yellow" if value >= warning else "green"
