"""Every PromQL expression of every dashboard parses, and none mixes set operators with
arithmetic without parentheses or joins two sides that can never match (tests/promql_lint.py).

That Prometheus accepts each query and returns data is tests/integration/test_dashboards.py;
that the numbers are right is tests/integration/test_dashboard_values.py.
"""

from __future__ import annotations

import pytest

from gridwatch.dashboards import models
from gridwatch.dashboards.walk import Query, queries, substitute
from tests.promql_lint import problems

# The variables at "All" and Grafana's interval variables at typical values: the parser needs a
# query as Grafana sends it.
VALUES = {"site": ".*", "instance": ".+", "meter": ".+", "area": ".+", "currency": ".+"}
VALUES |= {"inverter": ".+", "battery": ".+", "queue": ".+"}
ALL = [q for name, d in models().items() for q in queries(name, d)]


def _sent(query: Query) -> str:
    return substitute(query.expr, VALUES, range_s=21600, step_s=45, rate="1m")


@pytest.mark.parametrize("query", ALL, ids=lambda q: f"{q.dashboard}:{q.panel}:{q.ref_id}")
def test_every_dashboard_query_parses_and_passes_the_lint(query: Query) -> None:
    try:
        found = problems(_sent(query))
    except ValueError as exc:
        pytest.fail(f"not PromQL: {exc}\n  {query.expr}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("expr", "wanted"),
    [
        # The old "high" line: `+` binds tighter than `or`, and mean ≠ max on `stat`.
        (
            '(a{stat="mean"} or b{stat="mean"} + a{stat="max"} or b{stat="max"}) / 2',
            ["'or' next to '+'", "'+' can never match (stat="],
        ),
        ('x{stat="mean"} + ignoring(stat) x{stat="max"}', []),
        ('x{stat="mean"} + on(area) x{stat="max"}', []),
        (
            '(a{stat="mean"} or b{stat="mean"}) + ignoring(stat) (a{stat="max"} or b{stat="max"})',
            [],
        ),
        ("x or y and z", ["'or' next to 'and'"]),
        ("x or (y and z)", []),
        ("x * 1000 or vector(0)", ["'or' next to '*'"]),
        ('sum by (a) (x) / y{b="1"}', ["'/' can never match (b is always on the right"]),
        ('sum by (a, b) (x) / y{b="1"}', []),
        ('sum by (a) (x) / on(a) y{b="1"}', []),
        ('x{a="1"} > on(b) group_left() y{a="2"}', []),
        ('x{a="1"} and y{a="2"}', ["'and' can never match (a="]),
        ('x{a="1"} or y{a="2"}', []),
        ("count(ALERTS) or vector(0)", []),
        ("max(x) or on() vector(0.9)", []),
        ('x{a=~".+"} - sum(y)', ["'-' can never match (a is always on the left"]),
        ('x{a=~".*"} - sum(y)', []),
        ("x * 2 + 3", []),
    ],
)
def test_the_lint_finds_what_it_should(expr: str, wanted: list[str]) -> None:
    found = problems(expr)
    assert len(found) == len(wanted), found
    for message, start in zip(found, wanted, strict=True):
        assert message.startswith(start), (message, start)


def test_what_is_not_promql_is_an_error() -> None:
    with pytest.raises(ValueError):
        problems("rate(x[$__rate_interval])")
