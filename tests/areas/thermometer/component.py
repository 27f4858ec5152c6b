"""Thermometers' contribution to the exporter: one source per thermometer, their family."""

from __future__ import annotations

from gridwatch.core.component import Component, Runtime
from tests.areas.thermometer import THERMOMETERS
from tests.areas.thermometer.metrics import ThermometerFamilies
from tests.areas.thermometer.source import ThermometerSource


def component(runtime: Runtime) -> Component:
    thermometers = THERMOMETERS.of(runtime.config)
    return Component(
        sources=[ThermometerSource(t, clock=runtime.store.now) for t in thermometers],
        builders=[ThermometerFamilies(thermometers)],
    )
