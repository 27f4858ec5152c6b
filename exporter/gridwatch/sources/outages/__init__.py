"""Planned outage schedules (be-svitlo first), one module per operator."""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.sources.outages.config import OutagesConfig

OUTAGES = Section[OutagesConfig | None]("outages", OutagesConfig | None, lambda: None)

AREA = Area(
    name="outages",
    component="gridwatch.sources.outages.component",
    wanted=lambda config: OUTAGES.of(config) is not None,
    sections=(OUTAGES,),
    demo_part="gridwatch.sim.outages.demo",
)
