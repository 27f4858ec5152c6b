"""PI18 (InfiniSolar, MPP Solar LV5048, some Easun units): ``^P`` queries, ``^D`` replies.

Request ``^P`` + 3-digit length (command + CRC + CR) + command; reply ``^D`` + 3-digit length +
comma-separated fields. Unsupported commands answer ``^0``, malformed ones ``(NAK``. Numbers are
integers in tenths where the unit has a decimal (2422 = 242.2 V). A poll asks GS (status), MOD
(mode), FWS (fault and warnings) and PIRI (settings); PI, ID and VFW identify the unit once.
"""

from __future__ import annotations

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.fields import (
    at_least,
    bit_flags,
    decode,
    enum,
    field,
    net_battery_current,
    one,
    setting,
)
from gridwatch.sources.inverter.regmap import Decoded


def command(name: str) -> str:
    """``GS`` → ``^P005GS`` (the length counts the command, the 2 CRC bytes and the CR)."""
    return f"^P{len(name) + 3:03d}{name}"


BATTERY_DIRECTION = {0: "idle", 1: "charging", 2: "discharging"}
LINE_DIRECTION = {0: "idle", 1: "input", 2: "output"}
GS = (
    field(0, "mains_voltage", "mains_voltage", scale=0.1, unit="V", valid=(0, 300)),
    field(1, "mains_frequency", "mains_frequency", scale=0.1, unit="Hz", valid=(0, 70)),
    field(2, "output_voltage", "output_voltage", scale=0.1, unit="V", valid=(0, 300)),
    field(3, "output_frequency", "output_frequency", scale=0.1, unit="Hz", valid=(0, 70)),
    field(4, "output_apparent_power", "output_apparent_power", unit="VA"),
    field(5, "output_power", "output_power", unit="W"),
    field(6, "output_load", "output_load", unit="%"),
    field(7, "battery_voltage", "battery_voltage", scale=0.1, unit="V", valid=(0, 100)),
    field(12, "battery_soc", "battery_soc", unit="%", valid=(0, 100)),
    field(13, "heat_sink_temperature", "temperature", label="inverter", unit="°C"),
    field(14, "mppt1_temperature", "temperature", label="mppt1", unit="°C"),
    field(15, "mppt2_temperature", "temperature", label="mppt2", unit="°C"),
    field(16, "pv1_power", "pv_power", label="1", unit="W"),
    field(17, "pv2_power", "pv_power", label="2", unit="W"),
    field(18, "pv1_voltage", "pv_voltage", label="1", scale=0.1, unit="V"),
    field(19, "pv2_voltage", "pv_voltage", label="2", scale=0.1, unit="V"),
    enum(24, "battery_direction", "status", BATTERY_DIRECTION),
    enum(26, "line_direction", "status", LINE_DIRECTION),
)
_DISCHARGE, _CHARGE = field(10, "d", "battery_current"), field(11, "c", "battery_current")
MODES = {0: "power_on", 1: "standby", 2: "bypass", 3: "battery", 4: "fault", 5: "hybrid"}
MOD = (enum(0, "operating_mode", "operating_mode", MODES),)
_WARNINGS = {
    0: "mains_fail",
    1: "output_short_circuit",
    2: "over_temperature",
    3: "fan_locked",
    4: "battery_voltage_high",
    5: "battery_low",
    6: "battery_under_shutdown",
    7: "overload",
    8: "eeprom_fault",
    9: "power_limit",
    10: "pv1_voltage_high",
    11: "pv2_voltage_high",
    12: "mppt1_overload",
    13: "mppt2_overload",
    14: "battery_too_low_to_charge_scc1",
    15: "battery_too_low_to_charge_scc2",
}
FWS_CODE = field(0, "fault_code", "fault_code", unit="")
PIRI = (
    field(6, "rated_power", "rated_power", unit="W"),
    setting(8, "battery_recharge_voltage", scale=0.1, unit="V"),
    setting(9, "battery_redischarge_voltage", scale=0.1, unit="V"),
    setting(10, "battery_under_voltage", scale=0.1, unit="V"),
    setting(11, "bulk_charging_voltage", scale=0.1, unit="V"),
    setting(12, "float_charging_voltage", scale=0.1, unit="V"),
    setting(14, "max_mains_charging_current", unit="A"),
    setting(15, "max_charging_current", unit="A"),
)
# ET: total generated (PV) energy. The source says kWh, but 802946 on a 5.6 kW unit is not
# plausible as kWh: Wh (PROTOCOLS-2 §2.7; unverified).
ET = field(0, "pv_energy_total", "energy", "counter", label="pv", unit="Wh")
SERIAL = field(0, "serial_number", "serial_number", "text")
FIRMWARE = field(0, "firmware", "firmware", "text")
MIN_GS_FIELDS = 27


def fields_of(text: str, name: str) -> list[str]:
    """``^D106a,b,c`` → ``[a, b, c]`` after checking the announced length."""
    if not text.startswith("^D") or len(text) < 5 or not text[2:5].isdigit():
        raise SourceError("protocol", f"reply to {name} does not start with ^Dnnn: {text[:20]!r}")
    # The announced length is not checked: a real LV5048 announces 106 bytes for GS replies of
    # 106 and of 108 (5-digit power fields). The CR ends the reply; the fields are checked.
    return text[5:].split(",")


def status(text: str) -> list[Decoded]:
    parts = at_least(fields_of(text, "GS"), MIN_GS_FIELDS, "GS", 28)
    return decode(GS, parts, "GS") + net_battery_current(_CHARGE, _DISCHARGE, parts, "GS")


def mode(text: str) -> list[Decoded]:
    return decode(MOD, fields_of(text, "MOD"), "MOD")


def warnings(text: str) -> list[Decoded]:
    """FWS: a fault code, then one 0/1 field per warning."""
    parts = fields_of(text, "FWS")
    if len(parts) < 2:
        raise SourceError("payload", f"FWS reply has {len(parts)} fields")
    values = decode((FWS_CODE,), parts, "FWS")
    bits = parts[1:]
    if any(b not in {"0", "1"} for b in bits):
        raise SourceError("payload", f"FWS warning fields are not 0/1: {text[:40]!r}")
    warn = bit_flags(0, "warnings", "warnings", _WARNINGS)
    return values + decode((warn,), ["".join(bits)], "FWS")


def settings(text: str) -> list[Decoded]:
    return decode(PIRI, at_least(fields_of(text, "PIRI"), 16, "PIRI", 26), "PIRI")


def total_energy(text: str) -> list[Decoded]:
    return one(ET, fields_of(text, "ET"), "ET")


def protocol_id(text: str) -> str:
    return protocol_of(fields_of(text, "PI"), text)


def protocol_of(parts: list[str], text: str) -> str:
    """PI's fields ``["18"]`` → ``PI18`` (PI17 answers PI the same way)."""
    if len(parts) != 1 or not parts[0].isdigit():
        raise SourceError("payload", f"PI reply is no protocol id: {text[:20]!r}")
    return f"PI{parts[0]}"


def length_prefixed(raw: str) -> str:
    """``14`` + 14-character serial + padding → the serial (the first two digits give its
    length; without them the whole field)."""
    length = int(raw[:2]) if raw[:2].isdigit() else 0
    return raw[2 : 2 + length] if 0 < length <= len(raw) - 2 else raw


def serial_number(text: str) -> list[Decoded]:
    return decode((SERIAL,), [length_prefixed(fields_of(text, "ID")[0])], "ID")


def firmware(text: str) -> list[Decoded]:
    return decode((FIRMWARE,), fields_of(text, "VFW")[:1], "VFW")
