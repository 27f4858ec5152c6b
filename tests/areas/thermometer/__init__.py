"""A made-up area: room thermometers that answer ``GET /temperature`` with ``{"celsius": …}``.

It exists to prove that an area is its own package plus one entry in the area list: nothing in
``gridwatch/`` names it. ``tests/integration/test_new_area.py`` adds it to a copy of the list.
"""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from tests.areas.thermometer.config import ThermometerConfig

THERMOMETERS = Section[list[ThermometerConfig]]("thermometers", list[ThermometerConfig], list)

AREA = Area(
    name="thermometer",
    component="tests.areas.thermometer.component",
    wanted=lambda config: bool(THERMOMETERS.of(config)),
    sections=(THERMOMETERS,),
    demo_part="tests.areas.thermometer.demo",
    error_reasons={"sensor_fault": "the sensor reports a value it cannot have measured"},
)
