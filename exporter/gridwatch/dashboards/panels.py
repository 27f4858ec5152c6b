"""Panel kinds with the options gridwatch uses, each returning a `Panel` to place in a `Row`, and
the panel shapes several dashboards share (a value per device, power now, between levels, …)."""

from __future__ import annotations

from typing import Any

from gridwatch.dashboards.common import GREEN_AT_1, GRID
from gridwatch.dashboards.model import (
    ALERTMANAGER,
    ALERTMANAGER_NAME,
    BETWEEN_LEVELS,
    JSON,
    Panel,
    Target,
    Variable,
    instant,
    level_from,
    override,
    sel,
)

LEGEND = {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []}
TOOLTIP = {"mode": "multi", "sort": "desc"}
ONE_TOOLTIP = {"mode": "single", "sort": "none"}
REDUCE_LAST = {"values": False, "calcs": ["lastNotNull"], "fields": ""}


def _panel(
    kind: str,
    title: str,
    description: str,
    targets: tuple[Target, ...],
    size: tuple[int, int],
    **kw: Any,
) -> Panel:
    """A panel of ``kind`` at its kind's default ``size`` (width, height) unless ``kw`` sets it."""
    kw.setdefault("width", size[0])
    kw.setdefault("height", size[1])
    return Panel(kind, title, description, list(targets), **kw)


def stat(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    options = {
        "reduceOptions": REDUCE_LAST,
        "orientation": "auto",
        "textMode": "auto",
        "colorMode": "value" if kw.get("thresholds") or kw.get("mappings") else "none",
        "graphMode": kw.pop("graph", "none"),
        "justifyMode": "auto",
    }
    return _panel("stat", title, description, targets, (4, 4), options=options, **kw)


def gauge(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    options = {
        "reduceOptions": REDUCE_LAST,
        "showThresholdMarkers": True,
        "showThresholdLabels": False,
    }
    return _panel("gauge", title, description, targets, (4, 5), options=options, **kw)


def bars(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    """Horizontal bar gauge: per-cell voltages, phase load, planned outage hours."""
    options = {
        "reduceOptions": REDUCE_LAST,
        "orientation": kw.pop("orientation", "horizontal"),
        "displayMode": "gradient",
        "showUnfilled": True,
        "valueMode": "color",
        "namePlacement": "auto",
        "sizing": "auto",
        "minVizHeight": 10,
        "minVizWidth": 0,
    }
    return _panel("bargauge", title, description, targets, (6, 6), options=options, **kw)


def timeseries(
    title: str, description: str, *targets: Target, style: str = "line", **kw: Any
) -> Panel:
    custom: JSON = {
        "drawStyle": "bars" if style == "bars" else "line",
        "lineWidth": 1,
        "fillOpacity": 60 if style == "bars" else 10,
        "showPoints": "never",
        "spanNulls": False,
        "lineInterpolation": "stepAfter" if style == "steps" else "linear",
        "axisPlacement": "auto",
        "stacking": {"mode": "none", "group": "A"},
        "thresholdsStyle": {"mode": kw.pop("threshold_style", "off")},
    }
    options = {"legend": LEGEND, "tooltip": TOOLTIP}
    return _panel(
        "timeseries", title, description, targets, (12, 8), custom=custom, options=options, **kw
    )


def timeline(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    """State timeline: grid up/down, planned outages, operating mode, MOSFETs."""
    options = {
        "mergeValues": True,
        "showValue": "never",
        "alignValue": "left",
        "rowHeight": 0.9,
        "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"},
        "tooltip": ONE_TOOLTIP,
    }
    custom = {"lineWidth": 0, "fillOpacity": 80}
    return _panel(
        "state-timeline", title, description, targets, (24, 6), custom=custom, options=options, **kw
    )


def pie(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    options = {
        "reduceOptions": REDUCE_LAST,
        "pieType": "donut",
        "displayLabels": ["name", "percent"],
        "legend": {
            "showLegend": True,
            "displayMode": "table",
            "placement": "right",
            "values": ["value"],
        },
        "tooltip": ONE_TOOLTIP,
    }
    return _panel("piechart", title, description, targets, (6, 8), options=options, **kw)


def barchart(title: str, description: str, *targets: Target, x_field: str, **kw: Any) -> Panel:
    """Categorical bars from an instant table query: one bar per price slot."""
    options = {
        "xField": x_field,
        "orientation": "vertical",
        "showValue": "never",
        "barWidth": 0.9,
        "groupWidth": 0.7,
        "xTickLabelRotation": -45,
        "xTickLabelSpacing": 100,
        "stacking": kw.pop("stacking", "none"),
        "legend": {
            "showLegend": kw.pop("legend", False),
            "displayMode": "list",
            "placement": "bottom",
            "calcs": [],
        },
        "tooltip": ONE_TOOLTIP,
    }
    return _panel("barchart", title, description, targets, (12, 8), options=options, **kw)


def table(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    options = {"showHeader": True, "cellHeight": "sm"}  # no footer: Grafana 12 dropped the key
    return _panel("table", title, description, targets, (12, 7), options=options, **kw)


def alert_groups(title: str, description: str, **kw: Any) -> Panel:
    """Alertmanager's current alert groups (the alerts gridwatch's receiver acts on)."""
    options = {"alertmanager": ALERTMANAGER_NAME, "expandAll": True, "labels": ""}
    return _panel(
        "alertGroups",
        title,
        description,
        (),
        (12, 6),
        options=options,
        datasource=ALERTMANAGER,
        **kw,
    )


def organize(*keep: str, rename: dict[str, str] | None = None) -> list[JSON]:
    """Table transformations: join the instant frames and keep only the named columns."""
    return [
        {"id": "merge", "options": {}},
        {
            "id": "filterFieldsByName",
            "options": {"include": {"names": list(keep)}},
        },
        {"id": "organize", "options": {"renameByName": rename or {}, "indexByName": {}}},
    ]


# Panels and queries that several dashboards show the same way.


def per_device(metric: str, device: Variable) -> Target:
    """``metric`` now for each device the ``device`` variable selects, named by the device."""
    label = device.label_name
    return instant(sel(metric, f'{label}=~"${device.name}"'), f"{{{{{label}}}}}")


def count_now(expr: str, legend: str) -> Target:
    """How many series of ``expr`` there are now: 0, not "No data", when there are none."""
    return instant(f"count({expr}) or vector(0)", legend)


def power_now(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    """Power now with its recent course drawn behind the number."""
    return stat(title, description, *targets, unit="watt", graph="area", **kw)


def ratio_gauge(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    """A ratio from 0 to 1 shown as a percentage: state of charge, load."""
    return gauge(title, description, *targets, unit="percentunit", min=0, max=1, **kw)


def grid_now(description: str, **kw: Any) -> Panel:
    """The debounced grid state: up, DOWN, or unknown while nothing can see the mains."""
    return stat(
        "Grid",
        description,
        instant(sel("gridwatch_grid_up"), "grid"),
        mappings=GRID,
        thresholds=GREEN_AT_1,
        no_value="unknown",
        **kw,
    )


def levels(warning: str, critical: str, *matchers: str, now: bool = True) -> tuple[Target, Target]:
    """The strictest device's ``warning`` and ``critical`` level gauges, one series each named
    by its level (an instant query unless ``now`` is false)."""

    def strictest(metric: str, level: str) -> Target:
        return Target(f"min({sel(metric, *matchers)})", level, instant=now)

    return strictest(warning, "warning"), strictest(critical, "critical")


def between_levels(
    title: str, description: str, value: Target, low: Target, high: Target, **kw: Any
) -> Panel:
    """A stat of ``value`` coloured by where it stands between two levels queried beside it
    (`BETWEEN_LEVELS`): green below ``low``, yellow from it, red from ``high``. The levels'
    legends name them."""
    return stat(
        title,
        description,
        value,
        low,
        high,
        thresholds=BETWEEN_LEVELS,
        transformations=[level_from("B", low.legend, "min"), level_from("C", high.legend, "max")],
        **kw,
    )


# The warning and critical levels drawn as dashed lines beside the value they judge.
LEVEL_LINES = [
    override(
        name,
        color={"mode": "fixed", "fixedColor": colour},
        custom__fillOpacity=0,
        custom__lineStyle={"fill": "dash", "dash": [10, 10]},
    )
    for name, colour in (("warning", "yellow"), ("critical", "red"))
]
