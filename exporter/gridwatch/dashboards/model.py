"""Small builders for Grafana's dashboard JSON (schema v1, Grafana 11/12).

Panels are plain dicts because that is what Grafana reads; the builders only fix the parts that
must be the same everywhere: the provisioned datasource uids, the label filters of the template
variables, ids and the grid layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Fixed uids: grafana/provisioning/datasources/gridwatch.yml provisions exactly these, so the
# committed dashboards work without a datasource picker.
PROMETHEUS_UID = "gridwatch-prometheus"
ALERTMANAGER_UID = "gridwatch-alertmanager"
ALERTMANAGER_NAME = "Alertmanager"
PROMETHEUS = {"type": "prometheus", "uid": PROMETHEUS_UID}
ALERTMANAGER = {"type": "alertmanager", "uid": ALERTMANAGER_UID}

# What Grafana 11.6 and 12.0 write; the JSON already has the shape the v40 (refresh is a string)
# and v41 (no timepicker.time_options) migrations produce. Grafana 11.0 reads it as its own 39.
SCHEMA_VERSION = 41
TAG = "gridwatch"
# Every gridwatch series carries the exporter's instance label; in a central store (docs/fleet.md)
# also the site label vmauth sets from the site's token. A single site's Prometheus has no site
# label: "All" is then ".*", which matches the missing label, so the same dashboards work there.
SITE = 'site=~"$site", instance=~"$instance"'

# Colours of the earlier P1 tool's phase chart, kept so its users recognise their phases.
PHASE_COLOURS = {"l1": "#dc2626", "l2": "#16a34a", "l3": "#9333ea"}


def sel(metric: str, *matchers: str) -> str:
    """``metric{site=~"$site", instance=~"$instance", …}``: the site filter is never forgotten."""
    return f"{metric}{{{', '.join((SITE, *matchers))}}}"


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False  # format "table": one frame with label columns (bar charts, tables)
    interval: str = ""  # minimum step, e.g. "15m" for bars of quarter-hour sums

    def to_json(self, ref_id: str) -> JSON:
        out: JSON = {
            "datasource": PROMETHEUS,
            "refId": ref_id,
            "expr": self.expr,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "instant": self.instant,
            "editorMode": "code",
        }
        if self.table:
            out["format"] = "table"
        if self.interval:
            out["interval"] = self.interval
        return out


def instant(expr: str, legend: str = "") -> Target:
    """The value now (an instant query): what stats, gauges and bar gauges show."""
    return Target(expr, legend, instant=True)


def column(expr: str) -> Target:
    """Columns of a table: an instant query as one frame with its labels as columns."""
    return Target(expr, "", instant=True, table=True)


def steps(*pairs: tuple[float | None, str]) -> JSON:
    return {
        "mode": "absolute",
        "steps": [{"value": value, "color": colour} for value, colour in pairs],
    }


def mapping(values: dict[str, tuple[str, str]]) -> list[JSON]:
    """Value mappings: raw value → (text, colour)."""
    return [
        {
            "type": "value",
            "options": {
                raw: {"text": text, "color": colour, "index": index}
                for index, (raw, (text, colour)) in enumerate(values.items())
            },
        }
    ]


# Colours between two levels the exporter exports as gauges (imbalance, cell delta, price mean):
# `level_from` sets the field's min and max from the level queries and these percentage
# thresholds colour by position between them — below min green, from min yellow, from max red.
# Grafana's threshold handler ("threshold1") cannot do this: each transformation replaces the
# thresholds of the one before, and its base step differs between Grafana versions.
BETWEEN_LEVELS = {
    "mode": "percentage",
    "steps": [
        {"value": None, "color": "green"},
        {"value": 0, "color": "yellow"},
        {"value": 100, "color": "red"},
    ],
}


def level_from(ref_id: str, field: str, handler: str, apply_to: str = "A") -> JSON:
    """A "Config from query results" transformation: query ``ref_id`` (one series whose
    legend, so its display name, is ``field``) sets ``handler`` ("min" or "max") of the fields
    of query ``apply_to``."""
    return {
        "id": "configFromData",
        "options": {
            "configRefId": ref_id,
            "applyTo": {"id": "byFrameRefID", "options": apply_to},
            "mappings": [{"fieldName": field, "handlerKey": handler, "reducerId": "lastNotNull"}],
        },
    }


def override(name: str, *, regexp: bool = False, **props: Any) -> JSON:
    """Field config for the series called ``name`` (or matching it, with ``regexp``): each
    keyword a property, ``__`` for the dot of nested ones (``custom__axisPlacement``)."""
    return {
        "matcher": {"id": "byRegexp" if regexp else "byName", "options": name},
        "properties": [
            {"id": key.replace("__", "."), "value": value} for key, value in props.items()
        ],
    }


def phase_overrides() -> list[JSON]:
    return [
        override(phase, color={"mode": "fixed", "fixedColor": colour})
        for phase, colour in PHASE_COLOURS.items()
    ]


@dataclass
class Panel:
    """One panel; ``width``/``height`` in grid units (24 columns), placed by `Dashboard`."""

    type: str
    title: str
    description: str
    targets: list[Target] = field(default_factory=list)
    unit: str = ""
    width: int = 6
    height: int = 6
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: JSON | None = None
    mappings: list[JSON] = field(default_factory=list)
    overrides: list[JSON] = field(default_factory=list)
    transformations: list[JSON] = field(default_factory=list)
    options: JSON = field(default_factory=dict)
    custom: JSON = field(default_factory=dict)
    links: list[JSON] = field(default_factory=list)
    no_value: str = ""
    datasource: JSON | None = None  # None = the Prometheus datasource

    def to_json(self, panel_id: int, x: int, y: int) -> JSON:
        defaults: JSON = {}
        if self.unit:
            defaults["unit"] = self.unit
        for key in ("decimals", "min", "max"):
            if getattr(self, key) is not None:
                defaults[key] = getattr(self, key)
        defaults["thresholds"] = self.thresholds or steps((None, "green"))
        defaults["color"] = (
            {"mode": "thresholds"} if self.thresholds else {"mode": "palette-classic"}
        )
        if self.mappings:
            defaults["mappings"] = self.mappings
        if self.custom:
            defaults["custom"] = self.custom
        if self.no_value:
            defaults["noValue"] = self.no_value
        out: JSON = {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "datasource": self.datasource or PROMETHEUS,
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
            "options": self.options,
        }
        if self.targets:
            out["targets"] = [
                target.to_json(chr(ord("A") + index)) for index, target in enumerate(self.targets)
            ]
        if self.transformations:
            out["transformations"] = self.transformations
        if self.links:
            out["links"] = self.links
        return out


@dataclass(frozen=True)
class Variable:
    """A query variable over a label, filtered by the variables before it (site first)."""

    name: str
    label: str
    metric: str  # a series that exists whenever the device does
    label_name: str
    filters: tuple[str, ...] = ()  # matchers like 'instance=~"$instance"'
    all_value: str = ".+"

    @property
    def query(self) -> str:
        return f"label_values({self.metric}{{{', '.join(self.filters)}}}, {self.label_name})"

    def to_json(self) -> JSON:
        return {
            "type": "query",
            "name": self.name,
            "label": self.label,
            "datasource": PROMETHEUS,
            "query": {"query": self.query, "refId": f"{self.name}-values"},
            "refresh": 2,  # on time-range change: a device added today shows up
            "includeAll": True,
            "multi": True,
            "allValue": self.all_value,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "sort": 1,
            "hide": 0,
            "options": [],
            "regex": "",
            "skipUrlSync": False,
        }


SITE_VAR = Variable("site", "Site", "gridwatch_build_info", "site", all_value=".*")
INSTANCE_VAR = Variable(
    "instance", "Exporter", "gridwatch_build_info", "instance", ('site=~"$site"',)
)


def device_var(name: str, label: str, metric: str, label_name: str | None = None) -> Variable:
    return Variable(name, label, metric, label_name or name, (SITE,))


def link(uid: str, title: str) -> JSON:
    """A panel link to another gridwatch dashboard, keeping time range and variables."""
    return {"title": title, "url": f"/d/{uid}/?${{__url_time_range}}&${{__all_variables}}"}


@dataclass
class Row:
    title: str
    panels: list[Panel]
    collapsed: bool = False


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    rows: list[Row]
    variables: list[Variable]
    time_from: str = "now-24h"
    refresh: str = "30s"

    def panels(self) -> list[Panel]:
        return [panel for row in self.rows for panel in row.panels]

    def to_json(self) -> JSON:
        panels: list[JSON] = []
        next_id, y = 1, 0
        for row in self.rows:
            row_json: JSON = {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": row.collapsed,
                "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                "panels": [],
            }
            next_id, y = next_id + 1, y + 1
            placed: list[JSON] = []
            x, line_height = 0, 0
            for panel in row.panels:
                if x + panel.width > 24:  # wrap to the next line of the grid
                    x, y, line_height = 0, y + line_height, 0
                placed.append(panel.to_json(next_id, x, y))
                next_id += 1
                x += panel.width
                line_height = max(line_height, panel.height)
            y += line_height
            if row.collapsed:
                row_json["panels"] = placed
                panels.append(row_json)
            else:
                panels += [row_json, *placed]
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": [TAG],
            "timezone": "browser",
            "editable": True,
            "graphTooltip": 1,  # shared crosshair: compare phases, price and cost at one time
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m", "1h"]},
            "refresh": self.refresh,
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "weekStart": "monday",
            "links": [
                {
                    "type": "dashboards",
                    "title": "gridwatch",
                    "tags": [TAG],
                    "asDropdown": False,
                    "includeVars": True,
                    "keepTime": True,
                    "targetBlank": False,
                    "icon": "external link",
                }
            ],
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    },
                    {
                        # Grid loss and return drawn on every time series of every dashboard.
                        "name": "Grid changes",
                        "datasource": PROMETHEUS,
                        "enable": True,
                        "iconColor": "red",
                        # The query in `target`, as Grafana's Prometheus annotations keep it;
                        # the title and text formats stay beside it.
                        "target": {
                            "refId": "Anno",
                            "expr": f"changes({sel('gridwatch_grid_up')}[2m]) > 0",
                            "interval": "1m",
                        },
                        "titleFormat": "Grid state changed",
                        "textFormat": "",
                        "useValueForTime": False,
                    },
                ]
            },
            "templating": {"list": [variable.to_json() for variable in self.variables]},
            "panels": panels,
        }
