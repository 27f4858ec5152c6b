"""Bluetooth batteries' contribution to the exporter: the pack fleet and its metric families."""

from __future__ import annotations

from gridwatch.core.component import Component, Runtime
from gridwatch.sources.bms import BATTERIES
from gridwatch.sources.bms.metrics import BatteryFamilies
from gridwatch.sources.bms.source import BatteryFleet


def component(runtime: Runtime) -> Component:
    config = BATTERIES.of(runtime.config)
    if config is None:
        return Component()
    return Component(
        sources=[BatteryFleet(config, runtime.store)],
        builders=[BatteryFamilies(config)],
    )
