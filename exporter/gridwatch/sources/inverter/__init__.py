"""Easun SMG-II and relatives: transports (serial, TCP, Eybond dongle) and YAML register maps.

The area also owns the ``grid:`` section: the grid state is voted by inverters (and P1 meters).
"""

from __future__ import annotations

from gridwatch.core.area import Area, Section
from gridwatch.sources.inverter.config import GridConfig, InverterConfig

INVERTERS = Section[list[InverterConfig]]("inverters", list[InverterConfig], list)
GRID = Section[GridConfig]("grid", GridConfig, GridConfig)

AREA = Area(
    name="inverter",
    component="gridwatch.sources.inverter.component",
    wanted=lambda config: bool(INVERTERS.of(config) or GRID.of(config).p1_meters),
    sections=(INVERTERS, GRID),
    demo_part="gridwatch.sim.inverter.demo",
    error_reasons={
        "modbus_exception": "the device answered with a Modbus exception response",
        "nak": 'the device refused a command it does not support (Voltronic "(NAK")',
        "bad_model": "the configured register map or protocol does not fit this device",
    },
)
