"""Type-check dashboard JSON against Grafana's own TypeScript types (`@grafana/schema`).

Each dashboard becomes a TypeScript file that assigns the dashboard, every panel, its options,
its custom field config, every target, annotation, variable, transformation and every override
property to the type Grafana declares for it; `tsc` then rejects any key Grafana does not know
and any value of the wrong kind. Object literals assigned to a declared type get TypeScript's
excess-property check, which is what makes an unknown key an error (grafana-foundation-sdk's
JSON reader drops unknown keys instead).

`@grafana/schema` is installed twice (tests/grafana-schema/package.json, one alias per Grafana
major), and each run maps the import `@grafana/schema` to one of them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gridwatch.dashboards.walk import panels

FOLDER = Path(__file__).resolve().parent / "grafana-schema"
TSC = FOLDER / "node_modules" / ".bin" / "tsc"
VERSIONS = {"11": "grafana-schema-11", "12": "grafana-schema-12"}  # oldest and newest major
GENERATED = FOLDER / "generated"  # gitignored

# Panel type → the module of its options (and custom field config) in @grafana/schema.
PLUGINS = {
    "stat": ("stat", "StatPanelCfg", False),
    "gauge": ("gauge", "GaugePanelCfg", False),
    "bargauge": ("bargauge", "BarGaugePanelCfg", False),
    "timeseries": ("timeseries", "TimeSeriesPanelCfg", True),
    "state-timeline": ("statetimeline", "StateTimelinePanelCfg", True),
    "piechart": ("piechart", "PieChartPanelCfg", True),
    "barchart": ("barchart", "BarChartPanelCfg", True),
    "table": ("table", "TablePanelCfg", True),
}
# Panels whose plugin has no schema in @grafana/schema: only the panel itself is checked.
UNTYPED = {"alertGroups"}

PRELUDE = """\
import type {
  AnnotationQuery, Dashboard, DataQuery, DataTransformerConfig, FieldConfig, FieldConfigSource,
  Panel, RowPanel, VariableModel,
} from '@grafana/schema';
%(imports)s

// Dashboard JSON holds enum members as their values (a string enum E is read as `${E}`), and
// may leave out any option: Grafana fills in its defaults. Unknown keys stay errors.
type Json<T> = T extends string ? (string extends T ? T : `${T}`)
  : T extends number | boolean | null | undefined ? T
  : T extends Array<infer U> ? Array<Json<U>>
  : T extends object ? { [K in keyof T]?: Json<T[K]> }
  : T;

// The Prometheus query as Grafana's Prometheus plugin declares it (packages/grafana-prometheus:
// dataquery.cue, plus `interval`, the "Min step" of its PromQuery); @grafana/schema does not
// ship the Prometheus data query.
interface PromQuery extends DataQuery {
  expr: string;
  instant?: boolean;
  range?: boolean;
  exemplar?: boolean;
  editorMode?: 'code' | 'builder';
  format?: 'time_series' | 'table' | 'heatmap';
  legendFormat?: string;
  legendUrlFormat?: string;
  intervalFactor?: number;
  interval?: string;
}
// Options Grafana's Prometheus annotation support reads beside `target` (annotations.ts).
interface PromAnnotationOptions {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
}
type Override = FieldConfigSource['overrides'][number];
type Annotation = AnnotationQuery<PromQuery> & PromAnnotationOptions;
type PromDashboard = Omit<Dashboard, 'annotations'> & {
  annotations?: Omit<NonNullable<Dashboard['annotations']>, 'list'> & { list?: Annotation[] };
};
"""


def _module(plugin: str) -> str:
    folder, name, _ = PLUGINS[plugin]
    return f"@grafana/schema/dist/esm/raw/composable/{folder}/panelcfg/x/{name}_types.gen"


def _alias(plugin: str) -> str:
    return "p_" + PLUGINS[plugin][0]


def _ident(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def _property_type(prop_id: str, custom: str | None) -> str | None:
    """The type of an override property: `custom.x` from the plugin's field config, the rest
    from FieldConfig. None when the plugin has no custom field config type."""
    if prop_id.startswith("custom."):
        if custom is None:
            return None
        return f"Json<NonNullable<{custom}[{json.dumps(prop_id[len('custom.') :])}]>>"
    return f"Json<NonNullable<FieldConfig[{json.dumps(prop_id)}]>>"


def _without(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in keys}


def _panel_lines(prefix: str, panel: dict[str, Any]) -> Iterator[str]:
    """One assignment per object: TypeScript reports one unknown key per object literal, so
    each part is checked on its own (the panel itself without the parts checked below)."""
    kind = panel["type"]
    if kind == "row":
        yield f"const {prefix}: Json<RowPanel> = {_literal(_without(panel, 'panels'))};"
        return
    shell = _without(panel, "options", "targets", "transformations", "fieldConfig")
    yield f"const {prefix}: Json<Panel> = {_literal(shell)};"
    field_config = panel["fieldConfig"]
    defaults = field_config["defaults"]
    yield f"const {prefix}_defaults: Json<FieldConfig> = {_literal(_without(defaults, 'custom'))};"
    extra = _without(field_config, "defaults", "overrides")
    yield f"const {prefix}_fc: Json<Partial<FieldConfigSource>> = {_literal(extra)};"
    for i, target in enumerate(panel.get("targets", [])):
        yield f"const {prefix}_t{i}: Json<PromQuery> = {_literal(target)};"
    for i, transformation in enumerate(panel.get("transformations", [])):
        yield f"const {prefix}_x{i}: Json<DataTransformerConfig> = {_literal(transformation)};"
    if kind in UNTYPED:
        yield f"const {prefix}_options: Record<string, unknown> = {_literal(panel['options'])};"
        return
    if kind not in PLUGINS:
        raise ValueError(f"panel type {kind!r} has no mapping to @grafana/schema")
    alias, has_custom = _alias(kind), PLUGINS[kind][2]
    custom = f"{alias}.FieldConfig" if has_custom else None
    yield f"const {prefix}_options: Json<{alias}.Options> = {_literal(panel['options'])};"
    if "custom" in defaults or custom is not None:
        if custom is None:
            raise ValueError(f"{kind} has no custom field config, yet {panel['title']!r} sets one")
        yield f"const {prefix}_custom: Json<{custom}> = {_literal(defaults.get('custom', {}))};"
    for i, item in enumerate(field_config["overrides"]):
        ids = {**item, "properties": [_without(prop, "value") for prop in item["properties"]]}
        yield f"const {prefix}_o{i}: Json<Override> = {_literal(ids)};"
        for j, prop in enumerate(item["properties"]):
            kind_type = _property_type(prop["id"], custom)
            if kind_type is None:
                raise ValueError(f"{panel['title']!r}: {prop['id']} on a panel without custom")
            yield f"const {prefix}_o{i}_{j}: {kind_type} = {_literal(prop['value'])};"


def typescript(name: str, dashboard: dict[str, Any]) -> str:
    """One dashboard as a TypeScript file that type-checks only if Grafana's types accept it."""
    kinds = sorted({p["type"] for p in panels(dashboard)} & set(PLUGINS))
    imports = "\n".join(f"import type * as {_alias(k)} from '{_module(k)}';" for k in kinds)
    base = "d_" + _ident(name.removesuffix(".json"))
    root = {
        **_without(dashboard, "panels", "templating", "annotations"),
        "templating": {"list": []},
        "annotations": {"list": []},
    }
    lines = [
        PRELUDE % {"imports": imports},
        f"const {base}: Json<PromDashboard> = {_literal(root)};",
    ]
    for i, variable in enumerate(dashboard["templating"]["list"]):
        lines.append(f"const {base}_v{i}: Json<VariableModel> = {_literal(variable)};")
    for i, annotation in enumerate(dashboard["annotations"]["list"]):
        lines.append(f"const {base}_a{i}: Json<Annotation> = {_literal(annotation)};")
    for panel in panels(dashboard):
        lines.extend(_panel_lines(f"{base}_p{panel['id']}", panel))
    return "\n".join(lines) + "\n"


def _tsconfig(major: str, files: list[Path], folder: Path) -> Path:
    root = f"./node_modules/{VERSIONS[major]}"
    index = (
        "dist/index.d.ts"
        if (FOLDER / root / "dist" / "index.d.ts").exists()
        else ("dist/types/index.d.ts")
    )
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "es2022",
            "module": "esnext",
            "moduleResolution": "bundler",
            "baseUrl": os.path.relpath(FOLDER, folder),
            "paths": {"@grafana/schema": [f"{root}/{index}"], "@grafana/schema/*": [f"{root}/*"]},
            "types": [],
            "skipLibCheck": True,  # Grafana's own .d.ts need no checking; ours do
        },
        "files": [f.name for f in files],
    }
    path = folder / f"tsconfig.{major}.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def available() -> str | None:
    """Why the check cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not TSC.exists() or not all(
        (FOLDER / "node_modules" / v).is_dir() for v in VERSIONS.values()
    ):
        return "tests/grafana-schema/node_modules is missing: run make test (npm ci there)"
    return None


def check(dashboards: dict[str, dict[str, Any]], folder: Path = GENERATED) -> dict[str, str]:
    """Grafana major → tsc's complaints ("" when every dashboard is accepted)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.ts"):
        old.unlink()
    files = []
    for name, dashboard in dashboards.items():
        path = folder / f"{_ident(name.removesuffix('.json'))}.ts"
        path.write_text(typescript(name, dashboard), encoding="utf-8")
        files.append(path)
    out = {}
    for major in VERSIONS:
        config = _tsconfig(major, files, folder)
        result = subprocess.run(
            [str(TSC), "-p", str(config), "--pretty", "false"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "NODE_OPTIONS": ""},
        )
        out[major] = (result.stdout + result.stderr).strip() if result.returncode else ""
    return out
