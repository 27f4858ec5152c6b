"""PI17 (InfiniSolar 3-phase, e.g. "Infini-Solar 10KW/3P"): ``^P`` queries without a CRC.

Request ``^P`` + 3-digit length (command + CR) + command + CR, e.g. ``^P003GS\\r``: the unit
gets no checksum to verify, so a request garbled on the line may be answered as another one.
Replies are ``^D`` + 3-digit length + comma-separated fields + CRC + CR. The length counts
everything after itself (fields, CRC, CR) and is checked exactly, on top of the CRC and each
field's syntax; fields a model lacks come empty (``,,,``) and are left out. Unsupported commands
answer ``^0``. Numbers are integers in tenths or hundredths (2389 = 238.9 V, 5002 = 50.02 Hz).

A poll asks GS (voltages, currents, temperatures per phase), PS (powers per phase, battery
direction), MOD (mode) and WS (warnings); PIRI (ratings) and ET (total energy) are slow; PI,
ID and VFW identify the unit at the first poll (ID, VFW again on the slow cadence).
"""

from __future__ import annotations

from typing import Any, Literal

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.protocols.fields import (
    Field,
    at_least,
    bit_flags,
    decode,
    enum,
    field,
    one,
    setting,
)
from gridwatch.sources.inverter.protocols.pi18 import (
    BATTERY_DIRECTION,
    FIRMWARE,
    LINE_DIRECTION,
    MODES,
    SERIAL,
    length_prefixed,
    protocol_of,
)
from gridwatch.sources.inverter.regmap import Decoded, Role

EMPTY = frozenset({""})
Phase = Literal["l1", "l2", "l3"]
PHASES: tuple[Phase, ...] = ("l1", "l2", "l3")


def command(name: str) -> str:
    """``GS`` → ``^P003GS`` (the length counts the command and the CR: no CRC is sent)."""
    return f"^P{len(name) + 1:03d}{name}"


def encode(text: str) -> bytes:
    """The request on the wire: ``^P003GS`` + CR."""
    return text.encode("ascii") + b"\r"


def _per_phase(first: int, name: str, metric: Role, **spec: Any) -> tuple[Field, ...]:
    return tuple(
        field(first + i, f"{name}_{p}", metric, phase=p, **spec) for i, p in enumerate(PHASES)
    )


GS = (
    field(0, "pv1_voltage", "pv_voltage", label="1", scale=0.1, unit="V", valid=(0, 1000)),
    field(1, "pv2_voltage", "pv_voltage", label="2", scale=0.1, unit="V", valid=(0, 1000)),
    field(2, "pv1_current", "pv_current", label="1", scale=0.1, unit="A"),
    field(3, "pv2_current", "pv_current", label="2", scale=0.1, unit="A"),
    field(4, "battery_voltage", "battery_voltage", scale=0.1, unit="V", valid=(0, 100)),
    field(5, "battery_soc", "battery_soc", unit="%", valid=(0, 100)),
    # Signed (``+00000``), but which sign means charging is unverified: ``signed`` decides.
    field(6, "battery_current", "battery_current", scale=0.1, unit="A"),
    *_per_phase(7, "mains_voltage", "mains_voltage", scale=0.1, unit="V", valid=(0, 300)),
    field(10, "mains_frequency", "mains_frequency", scale=0.01, unit="Hz", valid=(0, 70)),
    *_per_phase(11, "mains_current", "mains_current", scale=0.1, unit="A"),
    *_per_phase(14, "output_voltage", "output_voltage", scale=0.1, unit="V", valid=(0, 300)),
    field(17, "output_frequency", "output_frequency", scale=0.01, unit="Hz", valid=(0, 70)),
    *_per_phase(18, "output_current", "output_current", scale=0.1, unit="A"),
    field(21, "inner_temperature", "temperature", label="inverter", unit="°C"),
    field(22, "component_max_temperature", "temperature", label="component_max", unit="°C"),
    field(23, "battery_temperature", "temperature", label="battery", unit="°C"),
)
MIN_GS_FIELDS = 24
PS = (
    field(0, "pv1_power", "pv_power", label="1", unit="W"),
    field(1, "pv2_power", "pv_power", label="2", unit="W"),
    *_per_phase(3, "mains_power", "mains_power", unit="W"),
    field(6, "mains_power", "mains_power", unit="W"),
    *_per_phase(7, "output_power", "output_power", unit="W"),
    field(10, "output_power", "output_power", unit="W"),
    field(14, "output_apparent_power", "output_apparent_power", unit="VA"),
    field(15, "output_load", "output_load", unit="%"),
    enum(19, "battery_direction", "status", BATTERY_DIRECTION),
    enum(21, "line_direction", "status", LINE_DIRECTION),
)
_BATTERY_POWER = field(2, "battery_power", "battery_power", unit="W")
MIN_PS_FIELDS = 22
MOD = (
    # Mode 06 "charge" (the mains charging the battery) is PI17's own.
    enum(0, "operating_mode", "operating_mode", {**MODES, 6: "charge"}),
)
# WS: one 0/1 field per warning, in this order (names as the other families name them where
# they mean the same: "AC input voltage loss" is the mains_fail of PI30 and PI18).
_WARNINGS = {
    0: "pv1_loss",
    1: "pv2_loss",
    2: "pv1_voltage_high",
    3: "pv2_voltage_high",
    4: "battery_under_voltage",
    5: "battery_low",
    6: "battery_disconnected",
    7: "battery_voltage_high",
    8: "battery_low_in_hybrid_mode",
    9: "grid_voltage_high",
    10: "grid_voltage_low",
    11: "grid_frequency_high",
    12: "grid_frequency_low",
    13: "grid_average_voltage_high",
    14: "mains_fail",
    15: "mains_frequency_loss",
    16: "islanding",
    17: "phase_dislocation",
    18: "over_temperature",
    19: "overload",
    20: "emergency_power_off",
    21: "mains_waveform_loss",
}
WARNINGS = bit_flags(0, "warnings", "warnings", _WARNINGS)
PIRI = (
    setting(0, "rated_input_voltage", scale=0.1, unit="V"),
    setting(3, "rated_output_voltage", scale=0.1, unit="V"),
    setting(5, "mppt_rated_current", scale=0.1, unit="A"),
    setting(6, "battery_rated_voltage", scale=0.1, unit="V"),
    setting(8, "machine_type", kind="enum", values={0: "grid_tie", 1: "off_grid", 10: "hybrid"}),
)
# Total generated (PV) energy. mpp-solar documents kWh for PI17 (6591 on a 10 kW unit).
ET = field(0, "pv_energy_total", "energy", "counter", label="pv", unit="kWh")


def fields_of(text: str, name: str) -> list[str]:
    """``^D0120,0,1,0,1`` → ``[0, 0, 1, 0, 1]`` after checking the announced length.

    The length counts the fields, the 2 CRC bytes and the CR, which ``text`` no longer has.
    """
    if not text.startswith("^D") or len(text) < 5 or not text[2:5].isdigit():
        raise SourceError("protocol", f"reply to {name} does not start with ^Dnnn: {text[:20]!r}")
    body = text[5:]
    if int(text[2:5]) != len(body) + 3:
        raise SourceError(
            "payload",
            f"reply to {name} announces {int(text[2:5])} bytes but carries {len(body) + 3}",
        )
    return body.split(",")


def status(text: str) -> list[Decoded]:
    parts = at_least(fields_of(text, "GS"), MIN_GS_FIELDS, "GS", 25)
    return decode(GS, parts, "GS", EMPTY)


def power(text: str) -> list[Decoded]:
    """PS: powers per phase, battery power and direction (the power's sign: see ``signed``)."""
    parts = at_least(fields_of(text, "PS"), MIN_PS_FIELDS, "PS", 22)
    return decode((*PS, _BATTERY_POWER), parts, "PS", EMPTY)


def signed(values: list[Decoded]) -> list[Decoded]:
    """Battery current (GS) and power (PS) signed by PS's battery direction, + charging.

    The power field carries no sign and the current's sign is unverified on a real unit; the
    direction says which way the energy flows, so it decides (idle: as read).
    """
    direction = next((d.state for d in values if d.spec.name == "battery_direction"), None)
    sign = {"charging": 1.0, "discharging": -1.0}.get(direction or "")
    if sign is None:
        return values
    return [
        Decoded(d.spec, d.raw, value=sign * abs(d.value))
        if d.spec.metric in {"battery_current", "battery_power"} and d.value is not None
        else d
        for d in values
    ]


def mode(text: str) -> list[Decoded]:
    return decode(MOD, fields_of(text, "MOD"), "MOD")


def warnings(text: str) -> list[Decoded]:
    parts = fields_of(text, "WS")
    if parts and parts[-1] == "":
        parts = parts[:-1]  # the unit ends the list with a comma
    if not parts or any(p not in {"0", "1"} for p in parts):
        raise SourceError("payload", f"WS fields are not 0/1: {text[:40]!r}")
    return decode((WARNINGS,), ["".join(parts)], "WS")


def settings(text: str) -> list[Decoded]:
    return decode(PIRI, at_least(fields_of(text, "PIRI"), 9, "PIRI", 11), "PIRI", EMPTY)


def total_energy(text: str) -> list[Decoded]:
    return one(ET, fields_of(text, "ET"), "ET")


def protocol_id(text: str) -> str:
    return protocol_of(fields_of(text, "PI"), text)


def serial_number(text: str) -> list[Decoded]:
    return decode((SERIAL,), [length_prefixed(fields_of(text, "ID")[0])], "ID")


def firmware(text: str) -> list[Decoded]:
    """``VERFW:00001.01`` → ``00001.01``."""
    value = fields_of(text, "VFW")[0].removeprefix("VERFW:")
    return decode((FIRMWARE,), [value], "VFW")
