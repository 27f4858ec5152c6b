"""Inverter metric families: every role to its metric, absent (not zero) when the map lacks it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from prometheus_client.core import Metric

from gridwatch.config import parse_config
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.energy.grid import GridTracker
from gridwatch.energy.grid_metrics import GridFamilies
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter.metrics import InverterFamilies
from gridwatch.sources.inverter.protocols.driver import FAMILIES, AsciiDriver
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import load_shipped, shipped_models
from tests.voltronic_captures import UnitLink


def samples(families: list[Metric]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}


def scrape(model: str, **overrides: float) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    regmap = load_shipped(model)
    device = InverterDevice(regmap, clock=lambda: 1_750_000_000.0)
    device.overrides.update(overrides)
    words = device.registers()
    full = {a: words.get(a, 0) for r in regmap.ranges for a in range(r.start, r.end)}
    store = StateStore(clock=lambda: 100.0)
    store.register(SourceKey("inverter", "inv"), 30.0)
    store.success(SourceKey("inverter", "inv"), InverterReading(100.0, model, regmap.decode(full)))
    config = parse_config(
        {
            "inverters": [
                {
                    "name": "inv",
                    "transport": "tcp",
                    "host": "h",
                    "model": model,
                    "battery_capacity_wh": 5120,
                }
            ]
        }
    )
    return samples(list(InverterFamilies(config.inverters)(store, 100.0)))


def scrape_ascii(family: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    device = VoltronicDevice(family, max_model=True, clock=lambda: 1_750_000_000.0)
    values = asyncio.run(AsciiDriver(FAMILIES[family], "inv").poll(UnitLink(device)))
    store = StateStore(clock=lambda: 100.0)
    store.register(SourceKey("inverter", "inv"), 30.0)
    store.success(SourceKey("inverter", "inv"), InverterReading(100.0, family, tuple(values)))
    config = parse_config(
        {"inverters": [{"name": "inv", "protocol": family, "transport": "tcp", "host": "h",
                        "port": 8899}]}
    )  # fmt: skip
    return samples(list(InverterFamilies(config.inverters)(store, 100.0)))


def test_ascii_families_energy_in_joules_and_status_flags() -> None:
    unit = VoltronicDevice("pi30", max_model=True, clock=lambda: 1_750_000_000.0)
    s = scrape_ascii("pi30")
    joules = get(s, "gridwatch_inverter_energy_joules_total", flow="pv")
    assert joules == round(unit.pv_energy_wh()) * 3600  # QET is Wh
    assert get(s, "gridwatch_inverter_status_flag", flag="load_on") == 1
    assert get(s, "gridwatch_inverter_grid_export_power_watts") == 0
    pi17 = scrape_ascii("pi17")
    kwh = get(pi17, "gridwatch_inverter_energy_joules_total", flow="pv")
    assert kwh == round(unit.pv_energy_wh() / 1000) * 3.6e6  # PI17's ET is kWh
    assert get(pi17, "gridwatch_inverter_mains_phase_voltage_volts", phase="l2") is not None


def get(
    s: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return s.get((name, frozenset({"inverter": "inv", **labels}.items())))


def test_vendor_map_metrics() -> None:
    s = scrape("smg_ii", battery_soc=66, output_load=25, battery_current=-9.8, battery_power=-480)
    assert get(s, "gridwatch_inverter_battery_soc_ratio") == 0.66
    assert get(s, "gridwatch_inverter_battery_power_watts") == -480  # the register, not V × I
    assert get(s, "gridwatch_inverter_output_load_ratio") == 0.25
    assert get(s, "gridwatch_inverter_battery_current_amperes") == -9.8
    assert get(s, "gridwatch_inverter_temperature_celsius", sensor="dc_dc") is not None
    assert get(s, "gridwatch_inverter_pv_total_power_watts") == get(
        s, "gridwatch_inverter_pv_power_watts", string="1"
    )
    assert get(s, "gridwatch_inverter_setting", setting="max_charging_current") == 100.0
    # The vendor map has no per-string PV 2, no energy counter and no mains current: no series.
    assert get(s, "gridwatch_inverter_pv_power_watts", string="2") is None
    assert not [k for k in s if k[0] == "gridwatch_inverter_energy_joules_total"]
    assert get(s, "gridwatch_inverter_mains_current_amperes") is None


def test_unknown_mode_and_warning_flags() -> None:
    s = scrape("smg_ii", operating_mode=9, warnings=(1 << 3) | (1 << 8))
    assert get(s, "gridwatch_inverter_operating_mode", mode="unknown") == 1
    assert get(s, "gridwatch_inverter_operating_mode", mode="off_grid") == 0
    assert get(s, "gridwatch_inverter_operating_mode_code") == 9
    assert get(s, "gridwatch_inverter_warning", warning="mains_low_voltage") == 1
    assert get(s, "gridwatch_inverter_warning", warning="battery_low_voltage") == 1
    assert get(s, "gridwatch_inverter_warning", warning="overload") == 0


def test_smx_energy_counters_and_battery_power_from_v_and_i() -> None:
    s = scrape(
        "smx_ii", pv_energy_total=123.4, charge_stage=2, battery_voltage=52.1, battery_current=-9.8
    )
    assert get(s, "gridwatch_inverter_energy_joules_total", flow="pv") == 123.4 * 3.6e6
    # No power register in this map: exported as V × I, discharging stays negative.
    assert get(s, "gridwatch_inverter_battery_power_watts") == -510.58
    stage = {"status": "charge_stage"}
    assert get(s, "gridwatch_inverter_status", **stage, state="constant_voltage") == 1
    assert get(s, "gridwatch_inverter_status", **stage, state="float") == 0
    regmap = load_shipped("smx_ii")
    device = InverterDevice(regmap)
    device.overrides.update(battery_voltage=50.0, battery_current=-10.0, battery_soc=40)
    words = device.registers()
    full = {a: words.get(a, 0) for r in regmap.ranges for a in range(r.start, r.end)}
    state = InverterReading(0.0, "smx_ii", regmap.decode(full), 5000.0).battery_state()
    assert state is not None
    assert state.power_watts == -500.0 and state.soc_ratio == 0.4 and state.remaining_wh == 2000.0


DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def documented_names() -> set[str]:
    """Metric names in the 'Inverter and grid state' section of docs/metrics.md.

    A table cell may abbreviate: "`gridwatch_inverter_output_voltage_volts` /
    `_output_current_amperes`" names gridwatch_inverter_output_current_amperes (the short form
    replaces as many trailing words of the previous full name as it has).
    """
    section = DOCS.read_text(encoding="utf-8").split("## Inverter and grid state", 1)[1]
    section = section.split("\n## ", 1)[0]
    found: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        full = ""
        for token in re.findall(r"`([a-z_]+)`", cell):
            if token.startswith("gridwatch_"):
                full = token
            elif token.startswith("_") and full:
                words = token.strip("_").split("_")
                full = "_".join(full.split("_")[: -len(words)] + words)
            else:
                continue
            found.add(full)
    return found


def emitted_names() -> set[str]:
    """Every sample name the inverter and grid families produce, over all shipped maps."""
    names: set[str] = set()
    for model in shipped_models():
        names |= {name for name, _labels in scrape(model)}
    for family in FAMILIES:
        names |= {name for name, _labels in scrape_ascii(family)}
    tracker = GridTracker(consecutive_polls=1)
    tracker.observe("inverter", "inv", True, 1.0)
    tracker.observe("inverter", "inv", False, 2.0)
    store = StateStore(clock=lambda: 100.0)
    names |= {s.name for f in GridFamilies(tracker)(store, 100.0) for s in f.samples}
    return names


def test_docs_list_exactly_the_metrics_the_code_exports() -> None:
    documented, emitted = documented_names(), emitted_names()
    assert emitted - documented == set(), "exported but not in docs/metrics.md"
    assert documented - emitted == set(), "in docs/metrics.md but never exported"
