"""``gridwatch_thermometer_temperature_celsius``: absent while the thermometer is silent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from gridwatch.core.families.common import non_empty
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from tests.areas.thermometer.config import ThermometerConfig
from tests.areas.thermometer.reading import TemperatureReading
from tests.areas.thermometer.source import KIND


class ThermometerFamilies:
    def __init__(self, thermometers: Sequence[ThermometerConfig]) -> None:
        self._names = [t.name for t in thermometers]

    def __call__(self, store: StateStore, now: float) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "gridwatch_thermometer_temperature_celsius",
            "Room temperature, read from the thermometer over HTTP.",
            labels=["thermometer"],
        )
        for name in self._names:
            reading = store.fresh(SourceKey(KIND, name), now)
            if isinstance(reading, TemperatureReading):
                family.add_metric([name], reading.celsius)
        return non_empty([family])
