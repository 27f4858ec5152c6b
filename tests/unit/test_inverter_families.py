"""Inverter metric families: every role to its metric, absent (not zero) when the map lacks it."""

from __future__ import annotations

from prometheus_client.core import Metric

from gridwatch.config import parse_config
from gridwatch.core.families.inverter import InverterFamilies
from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sim.inverter import InverterDevice
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import load_shipped


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
        {"inverters": [{"name": "inv", "transport": "tcp", "host": "h", "model": model}]}
    )
    return samples(list(InverterFamilies(config.inverters)(store, 100.0)))


def get(
    s: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return s.get((name, frozenset({"inverter": "inv", **labels}.items())))


def test_vendor_map_metrics() -> None:
    s = scrape("smg_ii", battery_soc=66, output_load=25, battery_current=-9.8)
    assert get(s, "gridwatch_inverter_battery_soc_ratio") == 0.66
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
    s = scrape("smx_ii", pv_energy_total=123.4, charge_stage=2)
    assert get(s, "gridwatch_inverter_energy_joules_total", flow="pv") == 123.4 * 3.6e6
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
