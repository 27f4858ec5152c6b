"""Every expression of the shipped recording and alerting rules passes the PromQL lint
(tests/promql_lint.py): no set operator beside arithmetic without parentheses, no join whose
sides can never match. promtool checks that they parse and behave (test_prometheus_rules.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.promql_lint import problems

PROMETHEUS = Path(__file__).resolve().parents[2] / "prometheus"
RULE_FILES = [*(PROMETHEUS / "rules").glob("*.yml"), *(PROMETHEUS / "fleet-rules").glob("*.yml")]


def _rules() -> list[tuple[str, str]]:
    found = []
    for path in sorted(RULE_FILES):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                found.append((f"{path.name}:{name}", rule["expr"]))
    return found


@pytest.mark.parametrize(("name", "expr"), _rules(), ids=[n for n, _ in _rules()])
def test_every_rule_expression_passes_the_lint(name: str, expr: str) -> None:
    assert not problems(expr), f"{name}:\n" + "\n".join(problems(expr))
