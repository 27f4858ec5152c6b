"""Battery metric families: only what the BMS sent, nothing once the reading is stale."""

from __future__ import annotations

import re
from pathlib import Path

from aiobmsble import TempSensor
from prometheus_client.core import Metric

from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.bms.config import BatteriesConfig
from gridwatch.sources.bms.metrics import BatteryFamilies
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


DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
EVERY_FIELD = {
    "voltage": 26.5,
    "current": -7.0,
    "battery_level": 68,
    "battery_health": 99,
    "cycle_charge": 142.0,
    "design_capacity": 210,
    "cycles": 21,
    "cell_voltages": [3.3, 3.31],
    "temp_values": [TempSensor(31.0, TempSensor.T.MOSFET)],
    "chrg_mosfet": True,
    "dischrg_mosfet": True,
    "balancer": False,
    "balance_current": 0.0,
    "heater": False,
    "problem": False,
    "problem_code": 0,
}


def documented() -> set[str]:
    """Names in the Batteries table of docs/metrics.md; "`x_a_b` / `_c_d`" also names x_c_d."""
    section = DOCS.read_text(encoding="utf-8").split("\n## Batteries\n", 1)[1].split("\n## ")[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        full = ""
        for token in re.findall(r"`([a-z_]+)`", line.split("|")[1]):
            if token.startswith("gridwatch_"):
                full = token
            elif token.startswith("_") and full:
                words = token.strip("_").split("_")
                full = "_".join(full.split("_")[: -len(words)] + words)
            names.add(full)
    return names


def test_docs_list_exactly_the_battery_metrics_the_code_exports() -> None:
    store = StateStore(clock=lambda: 0.0)
    key = SourceKey("bms", "house")
    store.register(key, staleness=60)
    store.success(key, from_sample(EVERY_FIELD, 0.0, "jikong_bms", {"sw_version": "11.48"}))
    exported = {s.name for f in BatteryFamilies(BatteriesConfig())(store, 0.0) for s in f.samples}
    assert "gridwatch_battery_runtime_seconds" in exported  # discharging: every family is there
    assert exported == documented()
