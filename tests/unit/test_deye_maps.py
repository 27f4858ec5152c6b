"""The Deye maps: word order, split counters, offsets, bits, signs, phases (§3.3–3.5)."""

from __future__ import annotations

import pytest

from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sources.inverter.reading import InverterReading
from gridwatch.sources.inverter.regmap import MapError, MapSpec, load_shipped


def _decode(model: str, words: dict[int, int]) -> dict[str, float | None]:
    regmap = load_shipped(model)
    return {d.spec.name: d.value for d in regmap.decode_available(words)}


def test_single_phase_split_total_import_skips_the_frequency_between() -> None:
    # Low word 0x004E, high word 0x0050; 0x004F is the grid frequency (§3.3).
    got = _decode("deye_sg0xlp1", {0x004E: 0x0010, 0x004F: 5001, 0x0050: 0x0002})
    assert got["grid_import_energy_total"] == pytest.approx((2 * 65536 + 16) * 0.1)
    assert got["mains_frequency"] == pytest.approx(50.01)


def test_counters_low_word_first_and_signed_values_exact() -> None:
    words = {0x0216: 0x0001, 0x0217: 0x0001, 0x024E: 0xFFFF, 0x024F: 0x8000, 0x024A: 1494}
    got = _decode("deye_sg0xlp3", words)
    assert got["pv_energy_total"] == pytest.approx(65537 * 0.1)
    # Two's complement: 0xFFFF is −1 (the off-by-one parser would say 0); flipped to + charging.
    assert got["battery_power"] == 1
    assert got["battery_current"] == pytest.approx(327.68)
    assert got["battery_temperature"] == pytest.approx(49.4)  # (1494 − 1000) × 0.1, kbialek #50


@pytest.mark.parametrize(("relay", "connected"), [(5, 1.0), (13, 1.0), (1, 0.0), (8, 0.0)])
def test_grid_relay_bit(relay: int, connected: float) -> None:
    assert _decode("deye_sg0xlp3", {0x0228: relay})["grid_connected"] == connected


def test_three_phase_reading_prefers_totals_and_any_phase_means_mains() -> None:
    regmap = load_shipped("deye_sg0xlp3")
    device = deye_device("deye-3p")
    device.overrides = {"mains_voltage_l1": 0.0, "mains_voltage_l2": 231.0, "mains_voltage_l3": 0.0}
    words = device.registers()
    reading = InverterReading(0.0, regmap.model, regmap.decode(words))
    assert reading.first("output_power") is not None
    assert reading.first("output_power").spec.phase is None  # type: ignore[union-attr]
    assert reading.mains_present(170, 45, 65) is True
    device.overrides = {f"mains_voltage_{p}": 0.0 for p in ("l1", "l2", "l3")}
    reading = InverterReading(0.0, regmap.model, regmap.decode(device.registers()))
    assert reading.mains_present(170, 45, 65) is False


def test_simulated_values_survive_the_map_both_ways() -> None:
    for kind in ("deye-1p", "deye-3p"):
        device = deye_device(kind)
        want = device.values()
        decoded = {d.spec.name: d for d in device.regmap.decode(device.registers())}
        for name in ("battery_power", "battery_soc", "output_power", "mains_frequency"):
            assert decoded[name].value == pytest.approx(float(want[name]), abs=1)


def test_two_registers_feeding_one_series_are_refused() -> None:
    with pytest.raises(ValueError, match="already feeds mains_power phase l1"):
        MapSpec.model_validate(
            {
                "model": "x",
                "registers": [
                    {"name": "a", "address": 1, "metric": "mains_power", "phase": "l1"},
                    {"name": "b", "address": 2, "metric": "mains_power", "phase": "l1"},
                ],
            }
        )
    assert MapError  # the loader wraps such errors with the file name


def test_high_address_only_for_32_bit() -> None:
    with pytest.raises(ValueError, match="high_address is for 32-bit"):
        MapSpec.model_validate(
            {
                "model": "x",
                "registers": [
                    {"name": "a", "address": 1, "high_address": 3, "metric": "mains_power"}
                ],
            }
        )


def test_battery_state_uses_the_totals_on_three_phase_units() -> None:
    # The outage runtime and /battery read the load and battery power; on a three-phase unit
    # those must be the totals, never L1's share.
    device = deye_device("deye-3p")
    device.overrides = {"output_power": 900.0, "output_power_l1": 300.0, "battery_power": -750.0}
    regmap = device.regmap
    reading = InverterReading(0.0, regmap.model, regmap.decode(device.registers()), 10240.0)
    state = reading.battery_state()
    assert state is not None
    assert state.load_watts == 900.0
    assert state.power_watts == -750.0  # discharging, gridwatch's sign
