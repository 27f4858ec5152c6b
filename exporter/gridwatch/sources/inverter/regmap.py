"""Register maps as YAML data: validation, batching into contiguous reads, decoding.

A map lists registers with address, type (signedness and width), scale, unit, kind and the
gridwatch metric it feeds. The shipped maps live in ``models/``; users point ``model_file:`` at
their own. Reads are planned once per map: registers sorted and merged into ranges of at most
``max_registers`` with gaps of at most ``max_gap`` unused registers read along.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from gridwatch.config_types import Strict

Role = Literal[
    "mains_voltage",
    "mains_frequency",
    "mains_current",
    "mains_power",
    "inverter_voltage",
    "inverter_current",
    "inverter_frequency",
    "inverter_power",
    "output_voltage",
    "output_current",
    "output_frequency",
    "output_power",
    "output_apparent_power",
    "output_load",
    "battery_voltage",
    "battery_current",
    "battery_power",
    "battery_soc",
    "charge_current",
    "charge_power",
    "pv_voltage",
    "pv_current",
    "pv_power",
    "pv_total_power",
    "bus_voltage",
    "temperature",
    "operating_mode",
    "faults",
    "warnings",
    "fault_code",
    "energy",
    "serial_number",
    "firmware",
    "rated_power",
    "status",
    "setting",
    "grid_connected",
    "energy_today",
    "status_flags",
    "grid_export_power",
]
RegType = Literal["int16", "uint16", "int32", "uint32", "string"]
Kind = Literal["value", "enum", "flags", "string"]

_WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]{0,40}$")
# Roles whose metric carries one extra label naming the string, sensor, flow or path.
ROLE_LABEL = {
    "pv_voltage": "string",
    "pv_current": "string",
    "pv_power": "string",
    "temperature": "sensor",
    "energy": "flow",
    "energy_today": "flow",
    "charge_current": "path",
    "charge_power": "path",
}
# Roles a three-phase map may give per phase (``phase:``): metric ``<side>_phase_<quantity>``.
PHASE_ROLES = tuple(
    f"{side}_{quantity}"
    for side in ("mains", "inverter", "output")
    for quantity in ("voltage", "current", "power")
)
MODELS_PACKAGE = "gridwatch.sources.inverter"


class RegisterSpec(Strict):
    name: str = Field(pattern=_SLUG.pattern)
    address: int = Field(ge=0, le=65535)
    type: RegType = "int16"  # the vendor document: signed int16 unless noted
    count: int | None = Field(default=None, ge=1, le=125)  # string registers only
    scale: float = 1.0
    offset: float = 0.0  # added after scaling (Deye temperatures: raw × 0.1 − 100)
    unit: str = ""
    kind: Kind | None = None  # default: string for type string, else value
    metric: Role
    label: str | None = Field(default=None, pattern=_SLUG.pattern)  # value of ROLE_LABEL's label
    values: dict[int, str] = Field(default_factory=dict)  # enum: raw value → state name
    flags: dict[int, str] = Field(default_factory=dict)  # bit number → flag name
    valid: tuple[float, float] | None = None  # plausible range; outside counts as nonsense
    # Three-phase units: the phase this register measures; it feeds ``<side>_phase_<quantity>``
    # with a ``phase`` label, the total (no phase) keeps the plain name.
    phase: Literal["l1", "l2", "l3"] | None = None
    # A 32-bit value whose high word is not next to the low one (Deye single-phase "total energy
    # bought": low 0x004E, high 0x0050, with the grid frequency in between).
    high_address: int | None = Field(default=None, ge=0, le=65535)
    bit: int | None = Field(default=None, ge=0, le=31)  # value = this one bit of the register
    # Read every ``slow_interval`` instead of every poll: settings, counters, temperatures — what
    # neither grid state nor output depends on, so a Wi-Fi dongle gets fewer requests.
    slow: bool = False

    @model_validator(mode="after")
    def _check(self) -> RegisterSpec:
        kind = self.effective_kind
        if self.type == "string" and self.count is None:
            raise ValueError("string registers need count (registers, 2 characters each)")
        if self.type != "string" and self.count is not None:
            raise ValueError("count is only for string registers; the type gives the width")
        if (kind == "string") != (self.type == "string"):
            raise ValueError("kind string goes with type string")
        if kind == "enum" and not self.values:
            raise ValueError("enum registers need values (raw value → name)")
        if kind == "flags" and not self.flags:
            raise ValueError("flags registers need flags (bit → name)")
        for name in [*self.values.values(), *self.flags.values()]:
            if not _SLUG.match(name):
                raise ValueError(f"state/flag name {name!r}: use lower_case letters, digits, _")
        if self.flags and max(self.flags) >= 16 * self.width:
            raise ValueError(f"flag bit {max(self.flags)} beyond the register width")
        needs_label = self.metric in ROLE_LABEL
        if needs_label and self.label is None:
            raise ValueError(f"metric {self.metric} needs label ({ROLE_LABEL[self.metric]} name)")
        if self.metric == "operating_mode" and kind != "enum":
            raise ValueError("operating_mode must be an enum")
        if self.metric in {"faults", "warnings", "status_flags"} and kind != "flags":
            raise ValueError(f"{self.metric} must be bit flags")
        if self.phase is not None and self.metric not in PHASE_ROLES:
            raise ValueError(f"phase is for {', '.join(PHASE_ROLES)}")
        if self.high_address is not None and self.type not in {"int32", "uint32"}:
            raise ValueError("high_address is for 32-bit registers (int32, uint32)")
        if self.bit is not None and (kind != "value" or self.bit >= 16 * self.width):
            raise ValueError("bit is for value registers, within the register width")
        if self.metric in {"serial_number", "firmware"} and kind != "string":
            raise ValueError(f"{self.metric} must be a string register")
        return self

    @property
    def effective_kind(self) -> Kind:
        if self.kind is not None:
            return self.kind
        return "string" if self.type == "string" else "value"

    @property
    def width(self) -> int:
        return self.count if self.type == "string" and self.count else _WIDTH.get(self.type, 1)

    @property
    def addresses(self) -> tuple[int, ...]:
        """The word addresses in register order (a split 32-bit value: low, then high)."""
        if self.high_address is not None:
            return (self.address, self.high_address)
        return tuple(range(self.address, self.address + self.width))


class MapSpec(Strict):
    model: str = Field(pattern=_SLUG.pattern)
    description: str = ""
    # Maps of one family share a register layout's lineage; a map that reads nonsense names the
    # others of its family to try (an SMG owner is not sent to the Deye maps).
    family: str = Field(default="easun", pattern=_SLUG.pattern)
    function: Literal[3, 4] = 3  # read holding (3) or input (4) registers
    # 32-bit values: SMG-II sends the high word first, Deye the low word first (§3.3).
    word_order: Literal["high_first", "low_first"] = "high_first"
    max_registers: int = Field(default=125, ge=1, le=125)
    max_gap: int = Field(default=10, ge=0, le=124)
    # Enum register → the raw values of the units this map is for (Deye: the device-type register
    # tells an LV from an HV three-phase unit, whose scales differ tenfold). Another value makes
    # the poll fail as bad_model instead of exporting numbers off by a factor.
    expect: dict[str, list[int]] = Field(default_factory=dict)
    registers: list[RegisterSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MapSpec:
        seen: set[str] = set()
        series: set[tuple[str, str | None, str | None]] = set()
        for reg in self.registers:
            if reg.name in seen:
                raise ValueError(f"register name {reg.name!r} is used twice")
            seen.add(reg.name)
            if reg.metric not in {"setting", "status"}:
                # Two registers feeding one series would make the scrape carry duplicates.
                key = (reg.metric, reg.label, reg.phase)
                if key in series:
                    label = f" {ROLE_LABEL[reg.metric]} {reg.label}" if reg.label else ""
                    phase = f" phase {reg.phase}" if reg.phase else ""
                    raise ValueError(
                        f"register {reg.name!r}: another register already feeds "
                        f"{reg.metric}{label}{phase}"
                    )
                series.add(key)
            if max(reg.addresses) >= 65536 or reg.address + reg.width > 65536:
                raise ValueError(f"register {reg.name!r} runs past address 65535")
            if reg.width > self.max_registers:
                raise ValueError(f"register {reg.name!r} is wider than max_registers")
        enums = {r.name for r in self.registers if r.effective_kind == "enum"}
        for name in self.expect:
            if name not in enums:
                raise ValueError(f"expect: {name!r} is not an enum register of this map")
        if all(reg.slow for reg in self.registers):
            raise ValueError("every register is slow: grid state needs some read on every poll")
        return self


class MapError(Exception):
    """A register map file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class ReadRange:
    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count


@dataclass(frozen=True, slots=True)
class Decoded:
    """One register as read: ``value`` for numbers, enums and flags, ``text`` for strings."""

    spec: RegisterSpec
    raw: int
    value: float | None = None
    text: str | None = None

    @property
    def state(self) -> str | None:
        """The enum state name (``unknown`` when the raw value is not in the map)."""
        if self.spec.effective_kind != "enum":
            return None
        return self.spec.values.get(self.raw, "unknown")

    def flags_set(self) -> dict[str, bool]:
        return {name: bool(self.raw >> bit & 1) for bit, name in sorted(self.spec.flags.items())}


class RegisterMap:
    def __init__(self, spec: MapSpec, source: str) -> None:
        self.spec = spec
        self.source = source
        self.registers = tuple(sorted(spec.registers, key=lambda r: (r.address, r.name)))
        # Fast and slow registers are planned apart, so a slow one never joins a fast read.
        fast = tuple(r for r in self.registers if not r.slow)
        slow = tuple(r for r in self.registers if r.slow)
        self.fast_ranges = plan(fast, spec.max_registers, spec.max_gap) if fast else []
        self.slow_ranges = plan(slow, spec.max_registers, spec.max_gap) if slow else []
        self.ranges = self.fast_ranges + self.slow_ranges

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def function(self) -> int:
        return self.spec.function

    def by_name(self, name: str) -> RegisterSpec | None:
        return next((r for r in self.registers if r.name == name), None)

    @property
    def low_first(self) -> bool:
        return self.spec.word_order == "low_first"

    def decode(self, words: dict[int, int]) -> tuple[Decoded, ...]:
        """Decode every register from a {address: raw word} dict holding all planned ranges."""
        return tuple(decode_register(reg, words, self.low_first) for reg in self.registers)

    def decode_available(self, words: dict[int, int]) -> tuple[Decoded, ...]:
        """Decode the registers whose words were all read (others are left out, not zero)."""
        return tuple(
            decode_register(reg, words, self.low_first)
            for reg in self.registers
            if all(a in words for a in reg.addresses)
        )

    def encode(self, reg: RegisterSpec, value: float | str) -> dict[int, int]:
        """{address: raw word} that decode to ``value`` (the simulators fill registers so)."""
        return dict(zip(reg.addresses, encode_register(reg, value, self.low_first), strict=True))


def plan(registers: tuple[RegisterSpec, ...], max_registers: int, max_gap: int) -> list[ReadRange]:
    """Contiguous read ranges covering every register, each ≤ max_registers long.

    A register wider than one word (32-bit values, strings) always lands whole in one range: the
    SMG-II answers garbage to a read that starts or ends inside such a block.
    """
    spans = sorted(
        (a, a + 1) if r.high_address is not None else (r.address, r.address + r.width)
        for r in registers
        for a in (r.addresses if r.high_address is not None else (r.address,))
    )
    ranges: list[ReadRange] = []
    start, end = spans[0]
    for s, e in spans[1:]:
        merged_end = max(end, e)
        if s - end <= max_gap and merged_end - start <= max_registers:
            end = merged_end
            continue
        ranges.append(ReadRange(start, end - start))
        start, end = s, e
    ranges.append(ReadRange(start, end - start))
    return ranges


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw >> (bits - 1) & 1 else raw


def decode_register(reg: RegisterSpec, words: dict[int, int], low_first: bool = False) -> Decoded:
    chunk = [words[a] for a in reg.addresses]
    if reg.type == "string":
        data = b"".join(w.to_bytes(2, "big") for w in chunk)
        text = data.split(b"\x00", 1)[0].decode("ascii", errors="replace").strip()
        return Decoded(reg, 0, text=text)
    if low_first or reg.high_address is not None:
        chunk.reverse()
    raw = 0
    for word in chunk:  # now high word first
        raw = raw << 16 | word
    kind = reg.effective_kind
    if kind in {"enum", "flags"}:
        return Decoded(reg, raw, value=float(raw))
    if reg.bit is not None:
        return Decoded(reg, raw, value=float(raw >> reg.bit & 1))
    number = _signed(raw, 16 * reg.width) if reg.type.startswith("int") else raw
    return Decoded(reg, raw, value=round(number * reg.scale + reg.offset, 6))


def encode_register(reg: RegisterSpec, value: float | str, low_first: bool = False) -> list[int]:
    """The raw words (in ``reg.addresses`` order) that decode to ``value``."""
    if reg.type == "string":
        data = str(value).encode("ascii")[: 2 * reg.width].ljust(2 * reg.width, b"\x00")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    assert not isinstance(value, str)
    bits = 16 * reg.width
    kind = reg.effective_kind
    if reg.bit is not None:
        raw = (1 << reg.bit) if value else 0
    else:
        raw = int(value) if kind in {"enum", "flags"} else round((value - reg.offset) / reg.scale)
    raw &= (1 << bits) - 1
    words = [(raw >> (16 * (reg.width - 1 - i))) & 0xFFFF for i in range(reg.width)]
    return words[::-1] if low_first or reg.high_address is not None else words


def shipped_models() -> dict[str, str]:
    """Shipped map names (file stems) → their description."""
    folder = resources.files(MODELS_PACKAGE).joinpath("models")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            spec = _parse(entry.read_text(encoding="utf-8"), entry.name)
            found[entry.name.removesuffix(".yaml")] = spec.description
    return dict(sorted(found.items()))


def related_models(model: str, family: str) -> list[str]:
    """The other shipped maps of ``family`` (the ones to try when ``model`` does not fit)."""
    folder = resources.files(MODELS_PACKAGE).joinpath("models")
    found = []
    for entry in folder.iterdir():
        name = entry.name.removesuffix(".yaml")
        if (
            entry.name.endswith(".yaml")
            and name != model
            and _parse(entry.read_text(encoding="utf-8"), entry.name).family == family
        ):
            found.append(name)
    return sorted(found)


def models_expecting(family: str, register: str, raw: int) -> list[str]:
    """Shipped maps of ``family`` that expect ``raw`` in ``register`` (see MapSpec.expect)."""
    folder = resources.files(MODELS_PACKAGE).joinpath("models")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            spec = _parse(entry.read_text(encoding="utf-8"), entry.name)
            if spec.family == family and raw in spec.expect.get(register, []):
                found.append(entry.name.removesuffix(".yaml"))
    return sorted(found)


def load_shipped(model: str) -> RegisterMap:
    entry = resources.files(MODELS_PACKAGE).joinpath("models", f"{model}.yaml")
    if not entry.is_file():
        raise MapError(f"no shipped register map {model!r} (have: {', '.join(shipped_models())})")
    return RegisterMap(_parse(entry.read_text(encoding="utf-8"), f"models/{model}.yaml"), model)


def load_file(path: Path) -> RegisterMap:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MapError(f"{path}: cannot read register map: {exc.strerror}") from None
    return RegisterMap(_parse(text, str(path)), str(path))


def _parse(text: str, source: str) -> MapSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MapError(f"{source}: YAML syntax error: {exc}") from None
    try:
        return MapSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where or '(top level)'}: {message}")
        raise MapError(f"{source}: invalid register map: " + "; ".join(problems)) from None
