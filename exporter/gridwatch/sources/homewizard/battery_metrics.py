"""Metric families for the Plug-In Battery group, as P1 meters and kWh meters report it
(``GET /api/batteries``). One builder for both, so each family is exposed once; the ``device``
label is the configured name of the meter that reported it::

    gridwatch_hw_batteries_mode{device="home",gridwatch_hw_batteries_mode="zero"} 1
    gridwatch_hw_batteries_permitted{device="home",action="discharge"} 1
    gridwatch_hw_batteries_power_watts{device="ev"} -404
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric, StateSetMetricFamily

from gridwatch.core.families.common import non_empty
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.homewizard.batteries_source import BATTERIES_KIND
from gridwatch.sources.homewizard.device_reading import (
    BatteriesReading,
    BatteryGroup,
    DeviceReading,
)
from gridwatch.sources.homewizard.device_source import DEVICE_KIND

P = "gridwatch_hw_batteries"
MODES = ("zero", "to_full", "standby", "predictive", "zero_charge_only", "zero_discharge_only")
# BatteryGroup field → (metric name, help); an absent field gives no series.
GAUGES = {
    "battery_count": (f"{P}_count", "Plug-In Batteries in the group the meter controls."),
    "power_w": (f"{P}_power_watts", "Battery group power now, as the meter reports."),
    "target_power_w": (f"{P}_target_power_watts", "Battery group target power (meter)."),
    "max_consumption_w": (f"{P}_max_consumption_watts", "Battery group's maximum charge power."),
    "max_production_w": (f"{P}_max_production_watts", "Battery group's maximum discharge power."),
}


class BatteryFamilies:
    """Callable family builder: the battery groups of P1 meters and of kWh meters."""

    def __init__(self, meters: Sequence[str], devices: Sequence[str]) -> None:
        self._keys = [SourceKey(BATTERIES_KIND, name) for name in meters]
        self._keys += [SourceKey(DEVICE_KIND, name) for name in devices]

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        mode = StateSetMetricFamily(
            f"{P}_mode",
            "Plug-In Battery group mode, as the P1 or kWh meter reports it.",
            labels=["device"],
        )
        permitted = GaugeMetricFamily(
            f"{P}_permitted",
            "1 when the battery group may do this (charge, discharge), as the meter reports.",
            labels=["device", "action"],
        )
        to_full = GaugeMetricFamily(
            f"{P}_charge_to_full",
            "1 while the battery group charges to full once (API 2.3.0), as the meter reports.",
            labels=["device"],
        )
        gauges = {
            field: GaugeMetricFamily(name, doc, labels=["device"])
            for field, (name, doc) in GAUGES.items()
        }
        for key in self._keys:
            group = _group(store.fresh(key, now))
            if group is None:
                continue
            name = key.device
            if group.mode is not None:
                modes = {m: m == group.mode for m in MODES}
                modes.setdefault(group.mode, True)  # a mode newer than this list still shows
                mode.add_metric([name], modes)
            if group.permissions is not None:
                for action in ("charge", "discharge"):
                    allowed = f"{action}_allowed" in group.permissions
                    permitted.add_metric([name, action], float(allowed))
            if group.charge_to_full is not None:
                to_full.add_metric([name], float(group.charge_to_full))
            for field, family in gauges.items():
                number = getattr(group, field)
                if number is not None:
                    family.add_metric([name], float(number))
        return non_empty([mode, permitted, to_full, *gauges.values()])


def _group(reading: object) -> BatteryGroup | None:
    if isinstance(reading, BatteriesReading):
        return reading.group
    if isinstance(reading, DeviceReading):
        return reading.batteries
    return None
