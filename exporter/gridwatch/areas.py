"""The area list: the one place that names the exporter's areas.

Adding an area is its package under ``sources/`` (which declares an ``Area``) and one line here.
The root config's sections and the exporter's components are built from this list. Order
matters only for derived values: meters first, so cost accounting sees their readings.
"""

from __future__ import annotations

from gridwatch.core.area import Area
from gridwatch.sources import bms, homewizard, inverter, outages, prices

AREAS: tuple[Area, ...] = (
    homewizard.AREA,
    prices.AREA,
    inverter.AREA,
    bms.AREA,
    outages.AREA,
)
