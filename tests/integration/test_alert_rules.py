"""The alert rules (prometheus/rules/alerts.yml) against what the rest of the project promises.

promtool runs every rules test file in test_prometheus_rules.py; here: prometheus.yml is a valid
config that loads the rules, every alert carries the labels and annotations the receiver and
Alertmanager use, every alert (and each of its severities) is seen firing in
prometheus/tests/alerts_test.yml, every metric a rule reads exists (in docs/metrics.md, and the
gridwatch_alert_* thresholds in a real scrape of the exporter), and docs/alerts.md names every
alert. Without promtool the promtool test skips, except under CI=true where it fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from tests.helpers import names, parse_exposition, required_binary

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "prometheus"
ALERTS = PROMETHEUS / "rules" / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "tests" / "alerts_test.yml"
METRIC = re.compile(r"\b(gridwatch_[a-z0-9_]+)\b")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rules() -> list[dict[str, Any]]:
    return [r for g in _load(ALERTS)["groups"] for r in g["rules"] if "alert" in r]


RULES = _rules()


def _rule_id(rule: dict[str, Any]) -> str:
    return f"{rule['alert']}-{rule['labels'].get('severity')}-{rule.get('for', '0s')}"


def test_prometheus_yml_is_valid_and_loads_the_rules() -> None:
    promtool = required_binary("promtool", "prometheus")
    result = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROMETHEUS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rules/alerts.yml" in result.stdout  # the glob found the alert rules


def test_prometheus_yml_sends_alerts_and_scrapes_the_exporter_as_job_gridwatch() -> None:
    config = _load(PROMETHEUS / "prometheus.yml")
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert "gridwatch" in jobs  # ExporterDown matches up{job="gridwatch"}
    (exporter_down,) = [r["expr"] for r in RULES if r["alert"] == "ExporterDown"]
    assert 'up{job="gridwatch"}' in exporter_down


@pytest.mark.parametrize("rule", RULES, ids=[_rule_id(r) for r in RULES])
def test_every_alert_has_routing_labels_and_text(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["labels"]["area"] in {"grid", "phases", "battery", "outages", "energy", "health"}
    assert set(rule["annotations"]) == {"summary", "description"}
    assert all(text.strip() for text in rule["annotations"].values())


def test_grid_down_is_the_load_shedding_alert() -> None:
    (grid,) = [r for r in RULES if r["alert"] == "GridDown"]
    assert grid["labels"]["action"] == "load_shedding"
    assert "for" not in grid  # the exporter debounces; no extra delay here
    assert [r["alert"] for r in RULES if "action" in r["labels"]] == ["GridDown"]


def _fired_in_tests() -> set[tuple[str, str]]:
    fired: set[tuple[str, str]] = set()
    for case in _load(ALERT_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            for alert in check.get("exp_alerts") or []:
                fired.add((check["alertname"], alert["exp_labels"]["severity"]))
    return fired


def test_every_alert_and_severity_is_seen_firing_in_the_promtool_tests() -> None:
    wanted = {(r["alert"], r["labels"]["severity"]) for r in RULES}
    missing = wanted - _fired_in_tests()
    assert not missing, f"no promtool test expects these to fire: {sorted(missing)}"


def test_every_alert_has_a_test_where_it_does_not_fire() -> None:
    quiet = {
        check["alertname"]
        for case in _load(ALERT_TESTS)["tests"]
        for check in case.get("alert_rule_test", [])
        if not check.get("exp_alerts")
    }
    assert {r["alert"] for r in RULES} <= quiet


def _metrics_in_rules() -> set[str]:
    found: set[str] = set()
    for rule in RULES:
        found |= set(METRIC.findall(rule["expr"]))
        for text in rule["annotations"].values():
            found |= set(METRIC.findall(text))
    return found


def _documented() -> set[str]:
    """Every metric name in docs/metrics.md; "`x_a_b` / `_c_d`" in a table also names x_c_d."""
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    found = set(METRIC.findall(text))
    for line in text.splitlines():
        full = ""
        for token in re.findall(r"`([a-z0-9_]+)`", line.split("|")[1] if "|" in line else ""):
            if token.startswith("gridwatch_"):
                full = token
            elif token.startswith("_") and full:
                words = token.strip("_").split("_")
                found.add("_".join(full.split("_")[: -len(words)] + words))
    return found


def test_every_metric_the_rules_read_is_documented() -> None:
    missing = _metrics_in_rules() - _documented()
    assert not missing, f"rules read metrics docs/metrics.md does not list: {sorted(missing)}"


def test_the_threshold_gauges_the_rules_read_are_exported() -> None:
    exported = names(
        parse_exposition(generate_latest(Exporter(parse_config({})).registry).decode())
    )
    wanted = {m for m in _metrics_in_rules() if m.startswith("gridwatch_alert_")}
    assert wanted, "the rules read no gridwatch_alert_* threshold"
    assert wanted <= exported, sorted(wanted - exported)


def test_docs_describe_every_alert() -> None:
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    missing = {r["alert"] for r in RULES if f"`{r['alert']}`" not in docs}
    assert not missing, f"docs/alerts.md does not describe {sorted(missing)}"
