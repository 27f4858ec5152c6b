"""Small helpers shared by the metric family builders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric


def non_empty(families: Iterable[Metric]) -> Iterator[Metric]:
    """Skip families without samples, so /metrics carries no HELP lines for absent data."""
    return (family for family in families if family.samples)
