"""This area's contribution to the exporter (see gridwatch.core.component)."""

from __future__ import annotations

from gridwatch.core.component import Component, Runtime


def component(runtime: Runtime) -> Component:
    return Component()
