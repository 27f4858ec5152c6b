"""PI30 (Axpert, MPP Solar PIP, Easun ISolar, PowMr …): which commands, which fields mean what.

A poll asks QPIGS (status), QPIGS2 (second PV string, MAX models; a unit that answers NAK is
not asked again), QMOD (mode), QPIWS (warning and fault bits); QPIRI (settings) and QET (total
PV energy, MAX models) change slowly and are read on the slow cadence. QPI, QID and QVFW
identify the unit at the first poll (QID, QVFW again on the slow cadence). Replies are split on
spaces and every field's syntax is checked; field counts differ by model and firmware (21 QPIGS
fields, 24 on MAX models).
"""

from __future__ import annotations

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.fields import (
    at_least,
    bit_flags,
    decode,
    field,
    net_battery_current,
    one,
    setting,
)
from gridwatch.sources.inverter.regmap import Decoded

QPIGS = (
    field(0, "mains_voltage", "mains_voltage", unit="V", valid=(0, 300)),
    field(1, "mains_frequency", "mains_frequency", unit="Hz", valid=(0, 70)),
    field(2, "output_voltage", "output_voltage", unit="V", valid=(0, 300)),
    field(3, "output_frequency", "output_frequency", unit="Hz", valid=(0, 70)),
    field(4, "output_apparent_power", "output_apparent_power", unit="VA"),
    field(5, "output_power", "output_power", unit="W"),
    field(6, "output_load", "output_load", unit="%"),
    field(7, "bus_voltage", "bus_voltage", unit="V"),
    field(8, "battery_voltage", "battery_voltage", unit="V", valid=(0, 100)),
    field(10, "battery_soc", "battery_soc", unit="%", valid=(0, 100)),
    field(11, "heat_sink_temperature", "temperature", label="inverter", unit="°C"),
    field(12, "pv1_current", "pv_current", label="1", unit="A"),
    field(13, "pv1_voltage", "pv_voltage", label="1", unit="V"),
    field(19, "pv1_power", "pv_power", label="1", unit="W"),
    # Field 17 b7..b0 and field 20 b10..b8, written high bit first: character i of the field
    # is flag i here. Named by what they say, as status flags of every family are.
    bit_flags(
        16,
        "device_status",
        "status_flags",
        {
            0: "sbu_priority_version",
            1: "configuration_changed",
            2: "scc_firmware_updated",
            3: "load_on",
            4: "battery_voltage_steady",
            5: "charging",
            6: "scc_charging",
            7: "ac_charging",
        },
    ),
    bit_flags(
        20,
        "device_status_2",
        "status_flags",
        {0: "charging_to_float", 1: "switched_on", 2: "dustproof_installed"},
    ),
    # Axpert MAX only (24 fields): solar feed-to-grid on/off, country code, feed-in power.
    bit_flags(21, "feed_to_grid", "status_flags", {0: "feed_to_grid_enabled"}),
    setting(22, "feed_to_grid_country"),
    field(23, "feed_to_grid_power", "grid_export_power", unit="W"),
)
_CHARGE, _DISCHARGE = field(9, "c", "battery_current"), field(15, "d", "battery_current")
QPIGS2 = (  # Axpert MAX: PV2 current, voltage, power (the reply ends in a space)
    field(0, "pv2_current", "pv_current", label="2", unit="A"),
    field(1, "pv2_voltage", "pv_voltage", label="2", unit="V"),
    field(2, "pv2_power", "pv_power", label="2", unit="W"),
)
MODES = "PSLBYFHD"  # QMOD letters; enum values below in the same order
QMOD = (
    field(
        0,
        "operating_mode",
        "operating_mode",
        "letter",
        type="uint16",
        kind="enum",
        letters=MODES,
        values={
            0: "power_on",
            1: "standby",
            2: "mains",
            3: "battery",
            4: "bypass",
            5: "fault",
            6: "power_saving",
            7: "shutdown",
        },
    ),
)
_FAULT_BITS = {
    1: "inverter_fault",
    2: "bus_over_voltage",
    3: "bus_under_voltage",
    4: "bus_soft_fail",
    6: "output_short_circuit",
    7: "inverter_voltage_low",
    8: "inverter_voltage_high",
    17: "eeprom_fault",
    18: "inverter_over_current",
    19: "inverter_soft_fail",
    20: "self_test_fail",
    21: "output_dc_voltage_over",
    22: "battery_open",
    23: "current_sensor_fail",
    24: "battery_short",
}
_WARNING_BITS = {
    5: "mains_fail",
    9: "over_temperature",
    10: "fan_locked",
    11: "battery_voltage_high",
    12: "battery_low",
    14: "battery_under_shutdown",
    16: "overload",
    25: "power_limit",
    26: "pv_voltage_high",
    27: "mppt_overload_fault",
    28: "mppt_overload_warning",
    29: "battery_too_low_to_charge",
}
# The 36-character reply of the Axpert MAX names four more warnings (a32..a35 stay unnamed in
# every source and are not exported); a plain PI30 keeps a0 and a15 reserved.
_MAX_WARNING_BITS = {
    **_WARNING_BITS,
    0: "pv_loss",
    15: "battery_derating",
    30: "battery_weak",
    31: "battery_equalisation",
}
MAX_QPIWS_BITS = 36
QPIWS = (
    bit_flags(0, "faults", "faults", _FAULT_BITS),
    bit_flags(0, "warnings", "warnings", _WARNING_BITS),
)
QPIWS_MAX = (
    QPIWS[0],
    bit_flags(0, "warnings", "warnings", _MAX_WARNING_BITS),
)
QPIRI = (
    field(6, "rated_power", "rated_power", unit="W"),
    setting(8, "battery_recharge_voltage", unit="V"),
    setting(9, "battery_under_voltage", unit="V"),
    setting(10, "bulk_charging_voltage", unit="V"),
    setting(11, "float_charging_voltage", unit="V"),
    setting(
        12,
        "battery_type",
        kind="enum",
        values={
            0: "agm",
            1: "flooded",
            2: "user",
            3: "pylontech",
            4: "shinheung",
            5: "weco",
            6: "soltaro",
            8: "lib",
            9: "lithium_3rd_party",
        },
    ),
    setting(13, "max_mains_charging_current", unit="A"),
    setting(14, "max_charging_current", unit="A"),
    setting(15, "input_voltage_range", kind="enum", values={0: "appliance", 1: "ups"}),
    setting(16, "output_priority", kind="enum", values={0: "utility", 1: "solar", 2: "sbu"}),
    setting(
        17,
        "charger_priority",
        kind="enum",
        values={0: "utility", 1: "solar", 2: "solar_and_utility", 3: "solar_only"},
    ),
    setting(22, "battery_redischarge_voltage", unit="V"),
)
# QET (Axpert MAX): total PV energy; mpp-solar gives Wh (the vendor document is not at hand).
QET = field(0, "pv_energy_total", "energy", "counter", label="pv", unit="Wh")
SERIAL = field(0, "serial_number", "serial_number", "text")
FIRMWARE = field(0, "firmware", "firmware", "text")

MIN_QPIGS_FIELDS = 20  # the oldest firmwares end after the PV charging power (field 20)


def fields_of(text: str, command: str) -> list[str]:
    if not text.startswith("("):
        raise SourceError("protocol", f"reply to {command} does not start with '(': {text[:20]!r}")
    return text[1:].split()


def status(text: str) -> list[Decoded]:
    parts = at_least(
        fields_of(text, "QPIGS"), MIN_QPIGS_FIELDS, "QPIGS", f"at least {MIN_QPIGS_FIELDS}"
    )
    return decode(QPIGS, parts, "QPIGS") + net_battery_current(_CHARGE, _DISCHARGE, parts, "QPIGS")


def pv2(text: str) -> list[Decoded]:
    return decode(QPIGS2, at_least(fields_of(text, "QPIGS2"), 3, "QPIGS2", 3), "QPIGS2")


def mode(text: str) -> list[Decoded]:
    return decode(QMOD, fields_of(text, "QMOD"), "QMOD")


def warnings(text: str) -> list[Decoded]:
    parts = fields_of(text, "QPIWS")
    if len(parts) != 1 or len(parts[0]) < 32:
        raise SourceError("payload", f"QPIWS reply is not 32 or more bits: {text[:40]!r}")
    return decode(QPIWS_MAX if len(parts[0]) >= MAX_QPIWS_BITS else QPIWS, parts, "QPIWS")


def settings(text: str) -> list[Decoded]:
    return decode(QPIRI, at_least(fields_of(text, "QPIRI"), 20, "QPIRI", "25 or more"), "QPIRI")


def total_energy(text: str) -> list[Decoded]:
    return one(QET, fields_of(text, "QET"), "QET")


def protocol_id(text: str) -> str:
    """``(PI30`` → ``PI30``."""
    parts = fields_of(text, "QPI")
    if len(parts) != 1 or not parts[0].startswith("PI") or not parts[0][2:].isdigit():
        raise SourceError("payload", f"QPI reply is no protocol id: {text[:20]!r}")
    return parts[0]


def serial_number(text: str) -> list[Decoded]:
    return decode((SERIAL,), fields_of(text, "QID"), "QID")


def firmware(text: str) -> list[Decoded]:
    """``(VERFW:00072.70`` → ``00072.70``."""
    parts = fields_of(text, "QVFW")
    value = parts[0].removeprefix("VERFW:") if parts else ""
    return decode((FIRMWARE,), [value], "QVFW")
