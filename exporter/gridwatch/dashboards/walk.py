"""Read generated (or committed) dashboard JSON back: panels, queries, variables, and the
PromQL Grafana would send — used by the tests that run every panel query against Prometheus."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from gridwatch.dashboards.model import JSON

_DURATION = re.compile(r"^now-(\d+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Query:
    dashboard: str  # file name
    panel: str  # panel title ("annotation: …" for annotation queries)
    ref_id: str
    expr: str
    instant: bool


def panels(dashboard: JSON) -> Iterator[JSON]:
    """Every panel, including those inside collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(name: str, dashboard: JSON) -> Iterator[Query]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield Query(name, panel["title"], target["refId"], target["expr"], target["instant"])
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation.get("target", {}):
            expr = annotation["target"]["expr"]
            yield Query(name, f"annotation: {annotation['name']}", "", expr, False)


def range_seconds(dashboard: JSON) -> int:
    """The default time range (``now-6h`` … ``now``) in seconds."""
    match = _DURATION.match(dashboard["time"]["from"])
    if match is None or dashboard["time"]["to"] != "now":
        raise ValueError(f"unsupported default range {dashboard['time']}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def duration(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _SECONDS[unit] == 0:
            return f"{seconds // _SECONDS[unit]}{unit}"
    return f"{seconds}s"


def substitute(expr: str, values: dict[str, str], *, range_s: int, step_s: int, rate: str) -> str:
    """The query as Grafana sends it: template variables by their (regex) value, then the
    built-in interval variables."""
    builtins = {
        "__rate_interval": rate,
        "__interval": duration(step_s),
        "__range_s": str(range_s),
        "__range": duration(range_s),
    }
    out = expr
    for name, value in {**values, **builtins}.items():
        out = out.replace("${" + name + "}", value)
        # The value as a literal replacement: regex values such as ".+" contain backslashes.
        out = re.sub(r"\$" + re.escape(name) + r"(?![A-Za-z0-9_])", value.replace("\\", r"\\"), out)
    return out


def variable_names(expr: str) -> set[str]:
    """``$name`` / ``${name}`` references other than Grafana's built-ins (``$__…``)."""
    found = re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", expr)
    return {name for name in found if not name.startswith("__")}
