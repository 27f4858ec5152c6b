"""Every real Voltronic capture decodes to its sidecar's values through the real `gridwatch run`
process, against simulators on pseudo-terminals serving exactly the captured reply bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter.protocols import pi18
from tests.helpers import Samples, value
from tests.integration.inverter_harness import gridwatch_run, metrics_until
from tests.voltronic_captures import frames, mppsolar_vectors, shared

pytestmark = pytest.mark.integration

P = "gridwatch_inverter_"
Expect = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _vector(protocol: str, command: str, index: int = 0) -> bytes:
    found = [
        v
        for v in mppsolar_vectors()
        if v["protocol"] == protocol and v["command"] == command and v["response_crc_valid"]
    ]
    return bytes.fromhex(str(found[index]["response_hex"]))


def _m(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (P + name, tuple(sorted(labels.items())))


def _pi30_steps() -> list[tuple[str, dict[str, bytes], Expect]]:
    easun = frames(shared("pi30_easun_5500w_2424mse1_frames.txt"))
    powmr = frames(shared("pi30_powmr_4200w_12v_frames.txt"))
    max8 = frames(shared("pi30max_axpert_max_ii_8kw_frames.txt"))
    max11 = frames(shared("pi30max_axpert_max_twin_11kw_frames.txt"))
    identity = {c: _vector("pi30", c) for c in ("QPI", "QID", "QVFW")}
    steps: list[tuple[str, dict[str, bytes], Expect]] = []
    # Axpert MAX first: the QPIGS2 a plain PI30 NAKs is not asked again afterwards.
    for cycle, pv_v, pv_w, pv2_v in (("A", 214.4, 226, 202.0), ("B", 214.4, 227, 201.7)):
        steps.append(
            (
                f"axpert max II 8 kW {cycle}",
                {
                    **identity,
                    "QPIGS": max8[f"AXPERT_8KW_QPIGS_{cycle}"],
                    "QPIGS2": max8[f"AXPERT_8KW_QPIGS2_{cycle}"],
                    "QPIRI": max8["AXPERT_8KW_QPIRI"],
                    "QMOD": max8["AXPERT_8KW_QMOD"],
                    # The MAX's 36-character QPIWS and its QET (mpp-solar's pi30max vectors).
                    "QPIWS": _vector("pi30max", "QPIWS", 1),
                    "QET": _vector("pi30max", "QET"),
                },
                {
                    # Sidecar: status1=00010110 (load+charging+scc_charging), status2=010.
                    _m("status_flag", flag="load_on"): 1,
                    _m("status_flag", flag="charging"): 1,
                    _m("status_flag", flag="scc_charging"): 1,
                    _m("status_flag", flag="ac_charging"): 0,
                    _m("status_flag", flag="configuration_changed"): 0,
                    _m("status_flag", flag="switched_on"): 1,
                    _m("status_flag", flag="charging_to_float"): 0,
                    _m("warning", warning="pv_loss"): 0,
                    _m("warning", warning="battery_derating"): 0,
                    _m("warning", warning="battery_weak"): 0,
                    _m("warning", warning="battery_equalisation"): 0,
                    _m("warning", warning="mains_fail"): 0,
                    _m("energy_joules_total", flow="pv"): 238800 * 3600,  # QET 00238800 Wh
                    _m("pv_voltage_volts", string="1"): pv_v,
                    _m("pv_power_watts", string="1"): pv_w,
                    _m("pv_voltage_volts", string="2"): pv2_v,
                    _m("pv_power_watts", string="2"): 205,
                    _m("battery_voltage_volts"): 54.3,
                    _m("battery_soc_ratio"): 0.61,
                    _m("temperature_celsius", sensor="inverter"): 39,
                    _m("rated_power_watts"): 8000,
                    _m("operating_mode", mode="battery"): 1,
                    _m("bus_voltage_volts"): 398,
                },
            )
        )
    steps.append(
        (
            "axpert max twin 11 kW (QPIGS from the 8 kW: the 11 kW capture's was corrupt)",
            {
                **identity,
                "QPIGS": max8["AXPERT_8KW_QPIGS_C"],
                "QPIGS2": max11["AXPERT_11KW_QPIGS2_A"],
                "QPIRI": max11["AXPERT_11KW_QPIRI"],
                "QMOD": max11["AXPERT_11KW_QMOD"],
                "QPIWS": _vector("pi30", "QPIWS"),
            },
            {
                _m("pv_voltage_volts", string="2"): 273.2,
                _m("pv_current_amperes", string="2"): 3.0,
                _m("pv_power_watts", string="2"): 825,
                _m("rated_power_watts"): 11000,
                _m("setting", setting="max_charging_current"): 100,
            },
        )
    )
    easun_expect = {
        "A": (239.2, 229.8, 197, 1.7, 229.2, 407),
        "B": (238.3, 230.2, 205, 2.1, 224.7, 473),
        "C": (239.3, 230.2, 196, 1.9, 209.8, 408),
        "D": (239.1, 230.2, 198, 1.8, 215.9, 405),
    }
    for cycle, (grid, out, load, pv_a, pv_v, pv_w) in easun_expect.items():
        steps.append(
            (
                f"easun 5.5 kW {cycle}",
                {
                    **identity,
                    "QPIGS": easun[f"EASUN_5500W_QPIGS_{cycle}"],
                    "QPIRI": easun["EASUN_5500W_QPIRI"],
                    "QMOD": easun["EASUN_5500W_QMOD"],
                    "QPIWS": _vector("pi30", "QPIWS"),
                },
                {
                    _m("mains_voltage_volts"): grid,
                    _m("output_voltage_volts"): out,
                    _m("output_power_watts"): load,
                    _m("pv_current_amperes", string="1"): pv_a,
                    _m("pv_voltage_volts", string="1"): pv_v,
                    _m("pv_power_watts", string="1"): pv_w,
                    _m("battery_voltage_volts"): 53.2,
                    _m("battery_soc_ratio"): 0.5,
                    _m("rated_power_watts"): 5500,
                    _m("setting", setting="bulk_charging_voltage"): 55.3,
                    _m("setting_state", setting="output_priority", state="sbu"): 1,
                },
            )
        )
    steps.append(
        (
            "powmr 4.2 kW discharging",
            {
                **identity,
                "QPIGS": powmr["POWMR_4200W_QPIGS_DISCHARGE"],
                "QPIRI": powmr["POWMR_4200W_QPIRI_100A"],
                "QMOD": powmr["POWMR_4200W_QMOD"],
                "QPIWS": _vector("pi30", "QPIWS"),
            },
            {
                _m("battery_voltage_volts"): 13.1,
                _m("battery_soc_ratio"): 0.8,
                _m("battery_current_amperes"): -24,
                _m("output_power_watts"): 283,
                _m("output_apparent_power_voltamperes"): 366,
                _m("bus_voltage_volts"): 379,
            },
        )
    )
    steps.append(
        (
            "powmr 4.2 kW solar charging, no grid",
            {
                **identity,
                "QPIGS": powmr["POWMR_4200W_QPIGS_SOLAR_A"],
                "QPIRI": powmr["POWMR_4200W_QPIRI_090A"],
                "QMOD": powmr["POWMR_4200W_QMOD"],
                "QPIWS": _vector("pi30", "QPIWS"),
            },
            {
                _m("mains_voltage_volts"): 0,
                _m("battery_current_amperes"): 10,
                _m("pv_voltage_volts", string="1"): 134.3,
                _m("pv_power_watts", string="1"): 177,
                _m("setting", setting="max_charging_current"): 90,
            },
        )
    )
    steps.append(
        (
            "mpp-solar pi30max QPIGS (its decoded status bits)",
            {
                **identity,
                "QPIGS": _vector("pi30max", "QPIGS"),
                "QPIRI": _vector("pi30", "QPIRI"),
                "QMOD": _vector("pi30max", "QMOD", 1),
                "QPIWS": _vector("pi30max", "QPIWS", 0),
            },
            {
                # mpp-solar: Is Load On 1, Is Charging On 1, Is SCC Charging On 1, Is AC
                # Charging On 0, Is Charging to Float 0, Is Switched On 1, Is Dustproof 0.
                _m("status_flag", flag="load_on"): 1,
                _m("status_flag", flag="charging"): 1,
                _m("status_flag", flag="scc_charging"): 1,
                _m("status_flag", flag="ac_charging"): 0,
                _m("status_flag", flag="sbu_priority_version"): 0,
                _m("status_flag", flag="charging_to_float"): 0,
                _m("status_flag", flag="switched_on"): 1,
                _m("status_flag", flag="dustproof_installed"): 0,
                _m("battery_current_amperes"): 20,
                _m("pv_power_watts", string="1"): 879,
                # The 32-character QPIWS of a MAX: line fail and overload as on any PI30.
                _m("warning", warning="mains_fail"): 1,
                _m("warning", warning="overload"): 1,
            },
        )
    )
    steps.append(
        (
            "mpp-solar test responses",
            {
                **identity,
                "QPIGS": _vector("pi30", "QPIGS"),
                "QPIRI": _vector("pi30", "QPIRI"),
                "QMOD": _vector("pi30max", "QMOD", 0),
                "QPIWS": _vector("pi30", "QPIWS"),
            },
            {
                _m("mains_voltage_volts"): 0,
                _m("output_power_watts"): 119,
                _m("battery_voltage_volts"): 57.5,
                _m("battery_current_amperes"): 12,
                _m("battery_soc_ratio"): 1.0,
                _m("pv_power_watts", string="1"): 856,
                _m("warning", warning="mains_fail"): 1,
                _m("warning", warning="overload"): 1,
                _m("operating_mode", mode="standby"): 1,
                _m("setting_state", setting="battery_type", state="agm"): 1,
            },
        )
    )
    return steps


def _pi18_steps() -> list[tuple[str, dict[str, bytes], Expect]]:
    lv = frames(shared("pi18_mppsolar_lv5048_frames.txt"))
    c = pi18.command
    base = {
        c("PI"): lv["LV5048_P005PI"],
        c("ID"): lv["LV5048_P005ID"],
        c("VFW"): lv["LV5048_P006VFW"],
        c("FWS"): lv["LV5048_P005FWS_EEPROM_WARN"],
    }
    return [
        (
            "lv5048 active",
            {
                **base,
                c("GS"): lv["LV5048_P005GS_ACTIVE"],
                c("PIRI"): lv["LV5048_P007PIRI_BECKOPOPOV"],
                c("MOD"): lv["LV5048_P006MOD_BATTERY"],
                c("ET"): lv["LV5048_P005ET_BECKOPOPOV"],
            },
            {
                _m("energy_joules_total", flow="pv"): 802946 * 3600,  # ET: Wh (PROTOCOLS-2 §2.7)
                _m("mains_voltage_volts"): 242.2,
                _m("mains_frequency_hertz"): 49.9,
                _m("output_voltage_volts"): 230.5,
                _m("output_apparent_power_voltamperes"): 1475,
                _m("output_power_watts"): 1458,
                _m("output_load_ratio"): 0.26,
                _m("battery_voltage_volts"): 52.6,
                _m("battery_current_amperes"): 7,
                _m("battery_soc_ratio"): 0.84,
                _m("pv_power_watts", string="1"): 1924,
                _m("pv_voltage_volts", string="1"): 265.4,
                _m("operating_mode", mode="battery"): 1,
                _m("setting", setting="max_charging_current"): 90,
                _m("warning", warning="eeprom_fault"): 1,
            },
        ),
        (
            "lv5048 standby, PV only",
            {
                **base,
                c("GS"): lv["LV5048_P005GS_STANDBY_PV"],
                c("PIRI"): lv["LV5048_P007PIRI_BANANNAJOE"],
                c("MOD"): lv["LV5048_P006MOD_HYBRID"],
            },
            {
                _m("mains_voltage_volts"): 231.2,
                _m("battery_voltage_volts"): 51.8,
                _m("battery_soc_ratio"): 0.36,
                _m("battery_current_amperes"): 4,
                _m("pv_power_watts", string="1"): 302,
                _m("pv_voltage_volts", string="1"): 243.8,
                _m("operating_mode", mode="hybrid"): 1,
                _m("setting", setting="bulk_charging_voltage"): 55.4,
            },
        ),
        (
            "lv5048 charging",
            {
                **base,
                c("GS"): lv["LV5048_P005GS_CHARGING"],
                c("PIRI"): lv["LV5048_P007PIRI_BANANNAJOE"],
                c("MOD"): lv["LV5048_P006MOD_HYBRID"],
            },
            {
                _m("mains_voltage_volts"): 230.1,
                _m("battery_voltage_volts"): 52.2,
                _m("battery_soc_ratio"): 0.4,
                _m("battery_current_amperes"): 9,
                _m("pv_power_watts", string="1"): 557,
            },
        ),
    ]


def _differences(samples: Samples, inverter: str, expect: Expect) -> list[str]:
    wrong = []
    for (name, labels), want in expect.items():
        got = value(samples, name, inverter=inverter, **dict(labels))
        if got is None or abs(got - want) > 1e-6:
            wrong.append(f"{name}{dict(labels)} = {got}, want {want}")
    return wrong


async def test_every_capture_decodes_through_gridwatch_run(tmp_path: Path) -> None:
    pi30_steps, pi18_steps = _pi30_steps(), _pi18_steps()
    pi30_dev, pi18_dev = VoltronicDevice("pi30"), VoltronicDevice("pi18")
    async with AsciiLineSimulator(pi30_dev) as pi30_line, AsciiLineSimulator(pi18_dev) as pi18_line:
        each = {
            "interval": "0.2s",
            "timeout": "2s",
            "slow_interval": "1ms",  # the slow commands on every poll
            "transport": "serial",
        }
        inverters = [
            each | {"name": "axpert", "protocol": "pi30", "device": pi30_line.path},
            each | {"name": "lv5048", "protocol": "pi18", "device": pi18_line.path},
        ]
        pi30_dev.replay, pi18_dev.replay = pi30_steps[0][1], pi18_steps[0][1]
        plain_from: int | None = None
        async with gridwatch_run(tmp_path, inverters) as metrics:
            for inverter, device, steps in (
                ("axpert", pi30_dev, pi30_steps),
                ("lv5048", pi18_dev, pi18_steps),
            ):
                for what, replay, expect in steps:
                    if device is pi30_dev and "QPIGS2" not in replay and plain_from is None:
                        plain_from = len(pi30_dev.requests)  # the first unit without QPIGS2
                    device.replay = replay
                    last: list[str] = []

                    def matches(
                        s: Samples, inverter: str = inverter, expect: Expect = expect,
                        last: list[str] = last,
                    ) -> bool:  # fmt: skip
                        last[:] = _differences(s, inverter, expect)
                        return not last

                    try:
                        samples = await metrics_until(metrics, matches, what)
                    except AssertionError:
                        pytest.fail(f"{what}: {last}")
            info = {
                "inverter": "axpert",
                "model": "pi30",
                "serial_number": "9293333010501",
                "firmware": "00072.70",
            }
            assert value(samples, "gridwatch_inverter_info", **info) == 1
            info = {
                "inverter": "lv5048",
                "model": "pi18",
                "serial_number": "96132209100190",
                "firmware": "07601",
            }
            assert value(samples, "gridwatch_inverter_info", **info) == 1
    # The plain PI30 units NAK QPIGS2: asked once after the MAX steps, then never again.
    assert plain_from is not None
    plain = pi30_dev.requests[plain_from:]
    assert plain.count("QPIGS2") <= 1 < plain.count("QPIGS"), plain
