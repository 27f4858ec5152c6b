"""Every transformation does something in Grafana: its id is one Grafana has, "Config from query
results" names a handler Grafana's table has and a field by the display name the query really
produces, and the names the table transformations and overrides use are names the queries give.

Facts from Grafana's source (public/app/features/transformers/): `configFromData` picks the
first frame whose refId is `configRefId`, reduces each field, and looks each field up in
`mappings` by its *display name* — for a Prometheus series that is the query's legendFormat
(`displayNameFromDS`), never "Value" — then runs the handler named by `handlerKey` from
fieldToConfigMapping.ts's handler table (there is no "threshold2"). A field no mapping names
uses its lower-cased name as the key. Each transformation's result replaces the whole property
it sets, so two transformations both setting `thresholds` keep only the second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gridwatch.dashboards import models
from gridwatch.dashboards.walk import panels
from tests.grafana_colours import colour, field_config, level_colour

# fieldToConfigMapping.ts: configMapHandlers (the same keys in Grafana 11.0 … 12.x).
HANDLERS = {
    "field.name",
    "field.value",
    "field.label",
    "__ignore",
    "max",
    "min",
    "unit",
    "decimals",
    "displayName",
    "color",
    "threshold1",
    "mappings.value",
    "mappings.color",
    "mappings.text",
}
# @grafana/data ReducerID values a config query can use.
REDUCERS = {"lastNotNull", "last", "firstNotNull", "first", "min", "max", "mean", "sum"}
# @grafana/data DataTransformerID values this project may use.
TRANSFORMERS = {
    "configFromData",
    "merge",
    "organize",
    "filterFieldsByName",
    "sortBy",
    "joinByField",
    "reduce",
    "calculateField",
    "labelsToFields",
    "seriesToRows",
    "rowsToFields",
}
ALL = [(name, p) for name, d in models().items() for p in panels(d) if p.get("targets")]
ROOT = Path(__file__).resolve().parents[2]


def _label_names() -> set[str]:
    """Label names of gridwatch's series (docs/metrics.md) and the ones Prometheus adds: the
    label columns a table query can have."""
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    words = set(re.findall(r"`([a-z][a-z_]*)`", text))
    return {w for w in words if not w.startswith("gridwatch")} | {"instance", "job"}


LABELS = _label_names()


def _ids(item: tuple[str, dict[str, Any]]) -> str:
    return f"{item[0]}:{item[1]['title']}"


def _literal_legend(target: dict[str, Any]) -> str | None:
    """The display name of a time-series target's value field when the legend fixes it."""
    legend = target.get("legendFormat", "")
    if target.get("format") == "table" or not legend or legend == "__auto" or "{{" in legend:
        return None
    return str(legend)


def _value_names(panel: dict[str, Any]) -> set[str]:
    """Field names a panel's frames can have: Time, label columns are open-ended, but value
    columns of table queries are "Value" (one table) or "Value #<refId>" (merged)."""
    tables = [t["refId"] for t in panel["targets"] if t.get("format") == "table"]
    names = {"Time", "Value"} | {f"Value #{ref}" for ref in tables}
    return names | {n for t in panel["targets"] if (n := _literal_legend(t))}


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_transformations_are_ones_grafana_applies(item: tuple[str, dict[str, Any]]) -> None:
    _, panel = item
    refs = {t["refId"]: t for t in panel["targets"]}
    for transformation in panel.get("transformations", []):
        assert transformation["id"] in TRANSFORMERS, transformation["id"]
        if transformation["id"] != "configFromData":
            continue
        options = transformation["options"]
        config = refs.get(options["configRefId"])
        assert config is not None, f"configRefId {options['configRefId']} is no query"
        assert config.get("instant") and config.get("format") != "table", "one number per field"
        apply_to = options["applyTo"]
        assert apply_to["id"] == "byFrameRefID" and apply_to["options"] in refs
        assert apply_to["options"] != options["configRefId"]
        for mapping in options["mappings"]:
            assert mapping["handlerKey"] in HANDLERS, f"no handler {mapping['handlerKey']!r}"
            assert mapping.get("reducerId", "lastNotNull") in REDUCERS
            name = _literal_legend(config)
            assert name is not None, f"query {config['refId']} has no fixed display name"
            assert mapping["fieldName"] == name, (
                f"mapping names {mapping['fieldName']!r}, the query's field is {name!r}"
            )


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_no_two_transformations_set_the_same_property(item: tuple[str, dict[str, Any]]) -> None:
    _, panel = item
    set_by: dict[str, int] = {}
    for transformation in panel.get("transformations", []):
        if transformation["id"] != "configFromData":
            continue
        for mapping in transformation["options"]["mappings"]:
            key = "thresholds" if mapping["handlerKey"] == "threshold1" else mapping["handlerKey"]
            set_by[key] = set_by.get(key, 0) + 1
    assert all(n == 1 for n in set_by.values()), f"the last one wins: {set_by}"


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_percentage_thresholds_have_both_ends(item: tuple[str, dict[str, Any]]) -> None:
    """Percentage thresholds place colours between the field's min and max; each end comes
    from the panel's defaults or from a level query."""
    _, panel = item
    defaults = panel["fieldConfig"]["defaults"]
    if defaults["thresholds"]["mode"] != "percentage":
        return
    from_data = {
        m["handlerKey"]
        for t in panel.get("transformations", [])
        if t["id"] == "configFromData"
        for m in t["options"]["mappings"]
    }
    for end in ("min", "max"):
        assert end in defaults or end in from_data, f"{panel['title']}: no {end}"


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_field_names_are_names_the_queries_produce(item: tuple[str, dict[str, Any]]) -> None:
    _, panel = item
    produced = _value_names(panel)
    labels = LABELS
    renamed: set[str] = set()
    for transformation in panel.get("transformations", []):
        options = transformation["options"]
        if transformation["id"] == "filterFieldsByName":
            for name in options["include"]["names"]:
                assert name in produced | labels, f"{name!r} is no field of {sorted(produced)}"
        if transformation["id"] == "organize":
            for old, new in options["renameByName"].items():
                assert old in produced, f"renames {old!r}, not a field"
                renamed.add(new)
    templated = any("{{" in t.get("legendFormat", "") for t in panel["targets"])
    for override in panel["fieldConfig"]["overrides"]:
        matcher = override["matcher"]
        if matcher["id"] != "byName":
            continue
        name = matcher["options"]
        known = name in produced | renamed or (templated and re.fullmatch(r"[a-z0-9]+", name))
        assert known, f"override for {name!r}: no query gives that name"


def _old_config_from(ref_id: str, handler: str) -> dict[str, Any]:
    """What the dashboards had before: never applied by any Grafana."""
    return {
        "id": "configFromData",
        "options": {
            "configRefId": ref_id,
            "applyTo": {"id": "byFrameRefID", "options": "A"},
            "mappings": [{"fieldName": "Value", "handlerKey": handler, "reducerId": "lastNotNull"}],
        },
    }


@pytest.mark.parametrize(
    ("transformations", "check"),
    [
        ([_old_config_from("B", "threshold2")], test_transformations_are_ones_grafana_applies),
        ([_old_config_from("B", "threshold1")], test_transformations_are_ones_grafana_applies),
        (
            [_old_config_from("B", "threshold1"), _old_config_from("C", "threshold1")],
            test_no_two_transformations_set_the_same_property,
        ),
    ],
)
def test_the_old_transformations_fail_these_checks(
    transformations: list[dict[str, Any]], check: Any
) -> None:
    grid = models()["grid.json"]
    panel = next(p for p in panels(grid) if p["title"] == "Max imbalance")
    panel = {**panel, "transformations": transformations}
    for t in transformations:  # valid field names, so only the handler or the count is wrong
        if check is test_no_two_transformations_set_the_same_property:
            t["options"]["mappings"][0]["fieldName"] = "warning"
    with pytest.raises(AssertionError):
        check(("grid.json", panel))


# Panel → (the level queries by refId, as (warning, critical) values to try); the value field
# is query A. Phase load's levels are 90 % of the near-fuse level and the level itself.
LEVEL_PANELS = {
    ("home.json", "Price now ($currency/kWh)"): {"B": 1.0, "C": 2.0},
    ("grid.json", "Max imbalance"): {"B": 5.0, "C": 10.0},
    ("batteries.json", "Cell delta"): {"B": 0.05, "C": 0.1},
    ("grid.json", "Phase load vs fuse"): {"B": 0.9},
}


@pytest.mark.parametrize("key", sorted(LEVEL_PANELS), ids="/".join)
def test_colours_follow_the_exported_levels(key: tuple[str, str]) -> None:
    board, title = key
    panel = next(p for p in panels(models()[board]) if p["title"] == title)
    levels = LEVEL_PANELS[key]
    config = field_config(panel, levels)
    if "C" in levels:
        warning, critical = levels["B"], levels["C"]
    else:
        warning, critical = 0.9 * levels["B"], levels["B"]
    for value in (0.0, warning * 0.99, warning, (warning + critical) / 2, critical, critical * 3):
        assert colour(value, config) == level_colour(value, warning, critical), value
    # Other levels from the exporter move the colours with them.
    moved = {ref: v * 3 for ref, v in levels.items()}
    assert colour(critical * 1.01, field_config(panel, moved)) == "green"
