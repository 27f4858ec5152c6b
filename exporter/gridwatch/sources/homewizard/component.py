"""HomeWizard P1 meters' contribution to the exporter: one source per meter, their families."""

from __future__ import annotations

from gridwatch.core.component import Component, Runtime
from gridwatch.sources.homewizard import METERS
from gridwatch.sources.homewizard.metrics import HomeWizardFamilies
from gridwatch.sources.homewizard.source import HomeWizardSource


def component(runtime: Runtime) -> Component:
    meters = METERS.of(runtime.config)
    return Component(
        sources=[HomeWizardSource(m, runtime.tz, clock=runtime.store.now) for m in meters],
        builders=[HomeWizardFamilies(meters, runtime.store)] if meters else [],
    )
