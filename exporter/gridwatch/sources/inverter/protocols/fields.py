"""Reply fields of the ASCII protocols described as data, decoded into the register vocabulary.

Each field names its position in the reply, its syntax and the same ``RegisterSpec`` a Modbus
map would give the quantity (metric role, scale, unit, enum values, flag bits), so an ASCII
reading feeds exactly the metrics, grid state and battery logic a Modbus reading does. The
``address`` of such a spec is the field's position in its reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gridwatch.core.source import SourceError
from gridwatch.sources.inverter.regmap import Decoded, RegisterSpec, Role

Syntax = Literal["number", "counter", "bits", "letter", "text"]
_SYNTAX = {
    "number": re.compile(r"^[+-]?\d{1,6}(\.\d{1,3})?$"),
    "counter": re.compile(r"^\d{1,10}$"),  # energy totals: 8 digits (00802946), never signed
    "bits": re.compile(r"^[01]{1,40}$"),
    "letter": re.compile(r"^[A-Z]$"),
    "text": re.compile(r"^[\x21-\x7e]{1,40}$"),
}
# Settings replies mark a value the unit does not have with "-" (parallel count on 24 V units).
ABSENT = {"-", "--"}


@dataclass(frozen=True, slots=True)
class Field:
    index: int
    syntax: Syntax
    spec: RegisterSpec
    letters: str = ""  # letter syntax: the letters in enum order (raw value = position)


def field(index: int, name: str, metric: Role, syntax: Syntax = "number", **spec: Any) -> Field:
    letters = spec.pop("letters", "")
    if syntax == "text":
        spec.setdefault("type", "string")
        spec.setdefault("count", 1)
    return Field(
        index, syntax, RegisterSpec(name=name, address=index, metric=metric, **spec), letters
    )


def enum(
    index: int, name: str, metric: Role, values: dict[int, str], syntax: Syntax = "number"
) -> Field:
    """A field whose number (or letter) names a state: exported as a state set."""
    return field(index, name, metric, syntax, type="uint16", kind="enum", values=values)


def bit_flags(index: int, name: str, metric: Role, flags: dict[int, str]) -> Field:
    """A field of 0/1 characters, character i being flag i."""
    return field(index, name, metric, "bits", type="uint32", kind="flags", flags=flags)


def setting(index: int, name: str, **spec: Any) -> Field:
    """A settings field: exported as ``gridwatch_inverter_setting{setting=<name>}``."""
    return field(index, name, "setting", type="uint16", **spec)


def decode(
    fields: Sequence[Field],
    parts: Sequence[str],
    command: str,
    absent: frozenset[str] | set[str] = ABSENT,
) -> list[Decoded]:
    """Decode the fields present in ``parts``; any field with the wrong syntax fails the reply.

    A number field reading one of ``absent`` is left out (PI17 leaves fields empty that its
    model lacks, ``,,,``).
    """
    out: list[Decoded] = []
    for f in fields:
        if f.index >= len(parts):
            continue  # shorter reply (older firmware, another model): the field is absent
        text = parts[f.index]
        if text in absent and f.syntax == "number":
            continue
        if not _SYNTAX[f.syntax].match(text):
            raise SourceError(
                "payload",
                f"reply to {command}: field {f.index + 1} ({f.spec.name}) reads {text[:20]!r}, "
                f"not a {f.syntax}",
            )
        out.append(_value(f, text, command))
    return out


def at_least(parts: list[str], minimum: int, command: str, expected: object) -> list[str]:
    """``parts`` when the reply has ``minimum`` fields or more; a shorter one fails it
    (``expected`` is what the manual lists: firmware may send fewer, never that few)."""
    if len(parts) < minimum:
        raise SourceError(
            "payload", f"{command} reply has {len(parts)} fields, expected {expected}"
        )
    return parts


def one(f: Field, parts: Sequence[str], command: str) -> list[Decoded]:
    """A reply that is exactly one field (an energy total): more or fewer fail it."""
    if len(parts) != 1:
        raise SourceError("payload", f"reply to {command} has {len(parts)} fields, expected 1")
    return decode((f,), parts, command)


def _value(f: Field, text: str, command: str) -> Decoded:
    spec = f.spec
    if f.syntax == "text":
        return Decoded(spec, 0, text=text)
    if f.syntax == "letter":
        raw = f.letters.find(text)
        raw = raw if raw >= 0 else 0xFF  # a letter the table lacks: state "unknown"
        return Decoded(spec, raw, value=float(raw))
    if f.syntax == "bits":
        # Character i is bit i (QPIWS: a0 first); the raw value keeps only what the map names.
        raw = sum(1 << i for i, c in enumerate(text[:32]) if c == "1")
        return Decoded(spec, raw, value=float(raw))
    number = float(text)
    if spec.effective_kind == "enum":
        return Decoded(spec, int(number), value=number)
    lo_hi = spec.valid
    value = round(number * spec.scale, 6)
    if lo_hi is not None and not lo_hi[0] <= value <= lo_hi[1]:
        raise SourceError(
            "payload", f"reply to {command}: {spec.name} = {value:g} is outside {lo_hi}"
        )
    return Decoded(spec, int(number), value=value)


def derived(name: str, metric: Role, value: float, unit: str = "") -> Decoded:
    """A value computed from fields (battery current = charging − discharging)."""
    spec = RegisterSpec(name=name, address=0, metric=metric, unit=unit)
    return Decoded(spec, 0, value=round(value, 6))


def net_battery_current(
    charge: Field, discharge: Field, parts: Sequence[str], command: str
) -> list[Decoded]:
    """battery_current, + charging: the unit sends charging and discharging current apart."""
    amps = decode((charge, discharge), parts, command)
    if len(amps) == 2 and amps[0].value is not None and amps[1].value is not None:
        return [derived("battery_current", "battery_current", amps[0].value - amps[1].value, "A")]
    return []
