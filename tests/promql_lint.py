"""A PromQL lint for the mistakes a parser accepts but a reader misreads.

Two rules, over the AST of the PyPI ``promql-parser`` (a port of Prometheus' own grammar):

* **Precedence**: ``or``/``and``/``unless`` with an arithmetic or comparison operand, or with a
  different set operator, without parentheses. ``a or b + c or d`` is ``a or (b + c) or d``:
  the set operators bind weakest, which is rarely what the line looks like.
* **Never matches**: a binary operation between two vectors whose sides can never share a label
  set, so the result is always empty — e.g. ``x{stat="mean"} + x{stat="max"}`` without
  ``ignoring(stat)``, or ``sum by (a) (x) / y{b="1"}`` (``b`` only on one side).

Labels are inferred from the query alone: equality matchers fix a label's value, regex matchers
that cannot match the empty string make it present, ``by (…)`` and ``on (…)`` bound the label
set. Where the query does not say, nothing is assumed (no false alarms from unknown series).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import promql_parser as pp

SET_OPS = {"or", "and", "unless"}
NAME = "__name__"
# Functions whose result keeps the argument's labels (the rest are handled one by one below).
_SCALAR_FUNCS = {"scalar", "time", "pi"}
_EMPTY_LABEL_FUNCS = {"vector"}


@dataclass(frozen=True)
class Labels:
    """What is known about a vector's label sets: ``fixed`` labels have one value, ``present``
    labels are always there, and when ``possible`` is not None no other label can be there."""

    fixed: dict[str, str] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
    possible: frozenset[str] | None = None
    scalar: bool = False

    def keep(self, names: frozenset[str]) -> Labels:
        possible = names if self.possible is None else self.possible & names
        return Labels(
            {k: v for k, v in self.fixed.items() if k in names}, self.present & names, possible
        )

    def drop(self, names: frozenset[str]) -> Labels:
        possible = None if self.possible is None else self.possible - names
        return Labels(
            {k: v for k, v in self.fixed.items() if k not in names}, self.present - names, possible
        )


SCALAR = Labels(scalar=True)


def _op(node: pp.BinaryExpr) -> str:
    return str(node.op).strip().lower()


def _selector(node: pp.VectorSelector) -> Labels:
    fixed: dict[str, str] = {}
    present: set[str] = set()
    for matcher in node.matchers.matchers:
        if matcher.name == NAME:
            continue
        op = str(matcher.op).rsplit(".", 1)[-1]
        if op == "Equal" and matcher.value:
            fixed[matcher.name] = matcher.value
            present.add(matcher.name)
        elif op == "Re" and re.fullmatch(matcher.value, "") is None:
            present.add(matcher.name)
    return Labels(fixed, frozenset(present))


def _names(modifier: object) -> frozenset[str]:
    return frozenset(getattr(modifier, "labels", None) or ())


def _kind(modifier: object) -> str:
    return str(getattr(modifier, "type", "")).rsplit(".", 1)[-1]


def labels(node: pp.Expr) -> Labels:
    """The labels an expression's result is known to carry."""
    if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
        return SCALAR
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr):
        return labels(node.expr)
    if isinstance(node, pp.VectorSelector):
        return _selector(node)
    if isinstance(node, pp.MatrixSelector):
        return _selector(node.vector_selector)
    if isinstance(node, pp.SubqueryExpr):
        return labels(node.expr)
    if isinstance(node, pp.AggregateExpr):
        inner = labels(node.expr)
        op = str(node.op).strip().lower()
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        if node.modifier is None:
            return Labels(possible=frozenset())
        if _kind(node.modifier) == "By":
            return inner.keep(_names(node.modifier))
        return inner.drop(_names(node.modifier) | {NAME})
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in _SCALAR_FUNCS:
            return SCALAR
        if name in _EMPTY_LABEL_FUNCS:
            return Labels(possible=frozenset())
        vectors = [labels(arg) for arg in node.args if not isinstance(arg, pp.StringLiteral)]
        inner = next((v for v in vectors if not v.scalar), Labels())
        if name in ("label_replace", "label_join"):
            target = node.args[1]
            added = frozenset({str(target.val)}) if isinstance(target, pp.StringLiteral) else None
            possible = None if inner.possible is None or added is None else inner.possible | added
            return Labels(inner.fixed, inner.present, possible)
        return inner
    if isinstance(node, pp.BinaryExpr):
        return _binary_labels(node)
    return Labels()


def _binary_labels(node: pp.BinaryExpr) -> Labels:
    lhs, rhs = labels(node.lhs), labels(node.rhs)
    if lhs.scalar and rhs.scalar:
        return SCALAR
    if lhs.scalar or rhs.scalar:
        return rhs if lhs.scalar else lhs
    op = _op(node)
    if op == "or":
        both = lhs.possible is not None and rhs.possible is not None
        possible = lhs.possible | rhs.possible if both else None  # type: ignore[operator]
        fixed = {k: v for k, v in lhs.fixed.items() if rhs.fixed.get(k) == v}
        return Labels(fixed, lhs.present & rhs.present, possible)
    if op in SET_OPS:
        return lhs
    modifier = node.modifier
    card = str(getattr(modifier, "card", "")).rsplit(".", 1)[-1]
    if card == "OneToMany":
        return rhs
    if card == "ManyToOne":
        return lhs
    matching = getattr(modifier, "matching", None)
    if matching is not None and _kind(matching) == "Include":  # one-to-one on (…)
        return lhs.keep(_names(matching))
    return lhs.drop(_names(matching) | {NAME})


def _never_matches(node: pp.BinaryExpr) -> str | None:
    """Why the two vector sides of ``node`` can never match, if they cannot."""
    lhs, rhs = labels(node.lhs), labels(node.rhs)
    if lhs.scalar or rhs.scalar or _op(node) == "or":
        return None
    matching = getattr(node.modifier, "matching", None)
    names = _names(matching)
    on = matching is not None and _kind(matching) == "Include"

    def compared(label: str) -> bool:
        return label != NAME and (label in names if on else label not in names)

    for label in sorted(set(lhs.fixed) & set(rhs.fixed)):
        if compared(label) and lhs.fixed[label] != rhs.fixed[label]:
            return f'{label}="{lhs.fixed[label]}" on the left, "{rhs.fixed[label]}" on the right'
    for one, other, side in ((lhs, rhs, "right"), (rhs, lhs, "left")):
        if one.possible is None:
            continue
        for label in sorted(other.present - one.possible):
            if compared(label):
                return f"{label} is always on the {side} side and never on the other"
    return None


def _children(node: pp.Expr) -> Iterator[pp.Expr]:
    for name in ("expr", "lhs", "rhs", "vector_selector"):
        child = getattr(node, name, None)
        if isinstance(child, pp.Expr):
            yield child
    if isinstance(node, pp.Call):
        yield from node.args
    if isinstance(node, pp.AggregateExpr) and isinstance(node.param, pp.Expr):
        yield node.param


def walk(node: pp.Expr) -> Iterator[pp.Expr]:
    yield node
    for child in _children(node):
        yield from walk(child)


def problems(expr: str) -> list[str]:
    """Parse ``expr`` (raises ValueError when it is not PromQL) and list what the lint finds."""
    tree = pp.parse(expr)
    found = []
    for node in walk(tree):
        if not isinstance(node, pp.BinaryExpr):
            continue
        op = _op(node)
        if op in SET_OPS:
            for side in (node.lhs, node.rhs):
                if isinstance(side, pp.BinaryExpr) and _op(side) != op:
                    found.append(
                        f"'{op}' next to '{_op(side)}' without parentheses: {node} groups as "
                        f"… {op} ({side}) …"
                    )
        reason = _never_matches(node)
        if reason is not None:
            found.append(f"'{op}' can never match ({reason}): {node}")
    return found
