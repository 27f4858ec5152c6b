"""Bluetooth batteries through aiobmsble: discovery, devices file, sequential polling."""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.sources.bms.config import BatteriesConfig

BATTERIES = Section[BatteriesConfig | None]("batteries", BatteriesConfig | None, lambda: None)

AREA = Area(
    name="bms",
    component="gridwatch.sources.bms.component",
    wanted=lambda config: BATTERIES.of(config) is not None,
    sections=(BATTERIES,),
    demo_part="gridwatch.sim.bluez.demo",
    error_reasons={
        "no_bluetooth": "no D-Bus system bus or no BlueZ service",
        "no_adapter": "BlueZ runs but has no (powered) adapter",
        "pairing_required": "the device refuses until it is paired/bonded",
    },
)
