"""The Deye maps: word order, split counters, offsets, bits, signs, phases (§3.3–3.5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _s16(value: int) -> int:
    return value & 0xFFFF


def test_hv_three_phase_scales_from_the_raw_words() -> None:
    # An SG01HP3 (§3.3, ha-solarman's HV column): ×0.1 V, ×10 W, 32-bit powers.
    words = {
        0x024B: 4096,
        0x024E: _s16(-120),  # the inverter's − = charging
        0x024F: _s16(-300),
        0x02A0: 523,
        0x0271: 0x82DC,  # 33 500 W: a signed 16-bit read would say −32 036
        0x02B2: 0x0000,
        0x026E: 0x63C0,  # −40 000 W: two's complement over both words
        0x02AF: 0xFFFF,
        0x0014: 0xD4C0,  # 120 000 × 0.1 W = 12 kW, low word first
        0x0015: 0x0001,
        0x00D2: 4320,
    }
    got = _decode("deye_sg01hp3", words)
    assert got["battery_voltage"] == pytest.approx(409.6)
    assert got["battery_power"] == pytest.approx(1200)  # + charging in gridwatch's vocabulary
    assert got["battery_current"] == pytest.approx(3.0)
    assert got["pv1_power"] == pytest.approx(5230)
    assert got["mains_power"] == pytest.approx(33_500)
    assert got["mains_power_l1"] == pytest.approx(-40_000)
    assert got["rated_power"] == pytest.approx(12_000)
    assert got["bms_charge_voltage"] == pytest.approx(432.0)
    # The LV map on the same words: a tenth of the voltage, that is why HV has its own map.
    assert _decode("deye_sg0xlp3", words)["battery_voltage"] == pytest.approx(40.96)


def test_hp3_differs_from_lp3_only_where_the_documents_say() -> None:
    lp3, hp3 = load_shipped("deye_sg0xlp3"), load_shipped("deye_sg01hp3")
    hv_only = {"rated_power", "zero_export_power"} | {
        r.name for r in hp3.registers if r.name.startswith("bms_")
    }
    for reg in hp3.registers:
        other = lp3.by_name(reg.name)
        assert (other is None) == (reg.name in hv_only), reg.name
        if other is None:
            continue
        assert other.address == reg.address, reg.name
        if reg.high_address is None:  # 32-bit powers aside, only the documented scales differ
            same = reg.scale == other.scale
            assert same != (reg.name in {"battery_voltage", "battery_power", "pv1_power",
                                          "pv2_power", "battery_shutdown_voltage",
                                          "battery_restart_voltage", "battery_low_voltage",
                                          "grid_charge_start_voltage"}), reg.name  # fmt: skip


@given(
    volts=st.integers(1500, 8000),  # 150.0 … 800.0 V in 0.1 V steps
    battery_w=st.integers(-3000, 3000).map(lambda w: w * 10),  # ×10 W steps, + charging
    grid_w=st.integers(-(2**31), 2**31 - 1),
    pv_w=st.integers(0, 6553).map(lambda w: w * 10),
)
def test_hv_map_decodes_what_the_inverter_sends(
    volts: int, battery_w: int, grid_w: int, pv_w: int
) -> None:
    """Raw words written from §3.3 (not with the map's own encoder) decode to the values."""
    raw_grid = grid_w & 0xFFFFFFFF
    words = {
        0x024B: volts,
        0x024E: _s16(-battery_w // 10),  # the inverter's sign: + discharging
        0x0271: raw_grid & 0xFFFF,
        0x02B2: raw_grid >> 16,
        0x02A0: pv_w // 10,
    }
    got = _decode("deye_sg01hp3", words)
    assert got["battery_voltage"] == pytest.approx(volts / 10)
    assert got["battery_power"] == battery_w
    assert got["mains_power"] == grid_w
    assert got["pv1_power"] == pv_w


@settings(max_examples=30)
@given(st.sampled_from(["deye-1p", "deye-3p", "deye-3p-hv"]), st.floats(0, 3 * 86400))
def test_simulated_units_read_back_through_their_maps(kind: str, offset: float) -> None:
    now = [1.7e9]
    device = deye_device(kind, clock=lambda: now[0])
    now[0] += offset
    want = device.values()
    decoded = {d.spec.name: d for d in device.regmap.decode(device.registers())}
    for name in ("battery_power", "battery_voltage", "battery_soc", "output_power"):
        tolerance = 10 if name == "battery_power" and kind == "deye-3p-hv" else 1
        assert decoded[name].value == pytest.approx(float(want[name]), abs=tolerance)


def test_expect_names_an_enum_register_of_the_map() -> None:
    regs = [{"name": "v", "address": 1, "metric": "mains_voltage"}]
    with pytest.raises(ValueError, match="'device_typ' is not an enum register"):
        MapSpec.model_validate({"model": "x", "expect": {"device_typ": [6]}, "registers": regs})
    with pytest.raises(ValueError, match="'v' is not an enum register"):
        MapSpec.model_validate({"model": "x", "expect": {"v": [6]}, "registers": regs})
