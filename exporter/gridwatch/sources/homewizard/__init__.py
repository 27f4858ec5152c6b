"""HomeWizard P1 meter: API v1, v2 with token, WebSocket push, pairing."""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.sources.homewizard.config import HomeWizardMeter, Meters

METERS = Section[list[HomeWizardMeter]]("meters", Meters, list)

AREA = Area(
    name="homewizard",
    component="gridwatch.sources.homewizard.component",
    wanted=lambda config: bool(METERS.of(config)),
    sections=(METERS,),
    demo_part="gridwatch.sim.homewizard.demo",
)
