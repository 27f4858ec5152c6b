"""Battery metric families: only what the BMS sent, nothing once the reading is stale."""

from __future__ import annotations

from prometheus_client.core import Metric

from gridwatch.core.families.bms import BatteryFamilies
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.bms.config import BatteriesConfig
from gridwatch.sources.bms.reading import from_sample


def _series(families: list[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_a_minimal_sample_gives_only_its_own_series() -> None:
    now = [1000.0]
    store = StateStore(clock=lambda: now[0])
    key = SourceKey("bms", "van")
    store.register(key, staleness=60)
    store.success(key, from_sample({"voltage": 13.2, "battery_level": 0}, 1000.0, "jbd_bms"))
    families = list(BatteryFamilies(BatteriesConfig())(store, now[0]))

    series = _series(families)
    assert series[("gridwatch_battery_voltage_volts", (("battery", "van"),))] == 13.2
    assert series[("gridwatch_battery_soc_ratio", (("battery", "van"),))] == 0  # a real 0 %
    assert series[("gridwatch_battery_info", (("battery", "van"), ("type", "jbd_bms")))] == 1
    assert not [n for n, _ in series if "current" in n or "cell_voltage" in n or "runtime" in n]
    assert all(f.documentation for f in families)  # every family says what it is

    now[0] += 61  # older than the staleness window: every series goes
    assert list(BatteryFamilies(BatteriesConfig())(store, now[0])) == []
