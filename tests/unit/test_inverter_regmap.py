"""Register maps: the shipped YAML files, batching, decoding, user maps and their errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridwatch.config import ConfigError, parse_config
from gridwatch.sources.inverter.plausible import looks_like_nonsense
from gridwatch.sources.inverter.regmap import (
    MapError,
    RegisterSpec,
    decode_register,
    encode_register,
    load_file,
    load_shipped,
    plan,
    shipped_models,
)

MODELS = ["deye_sg01hp3", "deye_sg0xlp1", "deye_sg0xlp3", "smg_ii", "smg_ii_11k", "smx_ii"]


def test_shipped_models_are_the_six_maps() -> None:
    assert list(shipped_models()) == MODELS


@pytest.mark.parametrize("model", MODELS)
def test_plan_covers_every_register_in_few_bounded_reads(model: str) -> None:
    regmap = load_shipped(model)
    for rng in regmap.ranges:
        assert 1 <= rng.count <= 125
    for reg in regmap.registers:  # every register lies whole inside one range
        for word in reg.addresses:
            assert any(r.start <= word < r.end for r in regmap.ranges)
        if reg.high_address is None:
            assert any(
                r.start <= reg.address and reg.address + reg.width <= r.end for r in regmap.ranges
            )
    assert len(regmap.ranges) <= len(regmap.registers) / 4


def test_vendor_map_reads_57_registers_in_four_requests() -> None:
    regmap = load_shipped("smg_ii")
    assert len(regmap.registers) == 57
    # Every poll reads the block that decides grid state and output; the rest is slow.
    assert [(r.start, r.count) for r in regmap.fast_ranges] == [
        (186, 49),  # serial block + the whole 2xx measurement block
    ]
    assert [(r.start, r.count) for r in regmap.slow_ranges] == [
        (100, 10),  # fault + warning bitmaps, gap of 6 merged
        (300, 38),  # settings, reserved gaps read along
        (643, 1),
    ]
    assert len(regmap.ranges) == 4


def _spec(**fields: object) -> RegisterSpec:
    return RegisterSpec.model_validate({"name": "x", "metric": "setting", **fields})


def test_plan_respects_max_registers_and_gaps() -> None:
    regs = tuple(_spec(name=f"r{a}", address=a) for a in (0, 5, 50, 120, 130))
    assert [(r.start, r.count) for r in plan(regs, 125, 10)] == [(0, 6), (50, 1), (120, 11)]
    assert [(r.start, r.count) for r in plan(regs, 8, 10)] == [
        (0, 6),
        (50, 1),
        (120, 1),
        (130, 1),
    ]


def test_decode_signedness_scale_strings_flags() -> None:
    words = {0: 0xFF9E, 1: 0xFE02, 2: 0x0001, 3: 0x0008, 4: 0x3932, 5: 0x4200}
    assert decode_register(_spec(address=0, scale=0.1), words).value == -9.8
    assert decode_register(_spec(address=0, type="uint16"), words).value == 0xFF9E
    assert decode_register(_spec(address=1), words).value == -510
    assert decode_register(_spec(address=2, type="uint32"), words).raw == 0x10008
    flags = _spec(address=2, type="uint32", kind="flags", flags={3: "low", 16: "high", 5: "off"})
    assert decode_register(flags, words).flags_set() == {"low": True, "off": False, "high": True}
    text = _spec(address=4, type="string", count=2, metric="serial_number")
    assert decode_register(text, words).text == "92B"
    mode = _spec(address=2, type="uint16", kind="enum", values={1: "standby"})
    assert decode_register(mode, {2: 1}).state == "standby"
    assert decode_register(mode, {2: 9}).state == "unknown"


@given(st.integers(-32768, 32767), st.sampled_from([1, 0.1, 0.01]))
def test_encode_decode_round_trip(raw: int, scale: float) -> None:
    spec = _spec(address=10, scale=scale)
    words = dict(enumerate(encode_register(spec, raw * scale), start=10))
    assert decode_register(spec, words).raw == raw & 0xFFFF


def test_nonsense_detection() -> None:
    regmap = load_shipped("smg_ii")
    zeros = {a: 0 for r in regmap.ranges for a in range(r.start, r.end)}
    why = looks_like_nonsense(regmap.decode(zeros))
    assert why is not None and "read as 0" in why
    plausible = dict(zeros)
    plausible.update({215: 521, 212: 5000, 229: 66})
    assert looks_like_nonsense(regmap.decode(plausible)) is None


def test_user_map_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "model: mine\nregisters:\n"
        "  - {name: mains_voltage, address: 202, scale: 0.1, metric: mains_voltage}\n"
    )
    regmap = load_file(path)
    assert regmap.model == "mine" and regmap.ranges[0].start == 202


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("model: m\nregisters: []\n", "registers"),
        ("model: m\nregisters:\n  - {name: a, address: 1, metric: volts}\n", "registers.0.metric"),
        (
            "model: m\nregisters:\n  - {name: a, address: 1, metric: pv_power}\n",
            "needs label",
        ),
        (
            "model: m\nregisters:\n  - {name: a, address: 1, metric: setting, kind: enum}\n",
            "need values",
        ),
        (
            "model: m\nregisters:\n  - {name: a, address: 1, metric: setting}\n"
            "  - {name: a, address: 2, metric: setting}\n",
            "used twice",
        ),
        ("model: m\nregisters: [\n", "YAML syntax error"),
    ],
)
def test_bad_user_maps_are_explained(tmp_path: Path, yaml_text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(MapError, match=problem) as err:
        load_file(path)
    assert str(path) in str(err.value)


def test_config_checks_model_and_transport_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"inverters": [{"name": "a", "transport": "tcp", "model": "smg_iii"}]})
    assert "inverters[0].model" in str(err.value) and "smg_ii_11k" in str(err.value)
    with pytest.raises(ConfigError, match="needs device"):
        parse_config({"inverters": [{"name": "a", "transport": "serial"}]})
    with pytest.raises(ConfigError, match="needs host"):
        parse_config({"inverters": [{"name": "a", "transport": "eybond"}]})
    (tmp_path / "m.yaml").write_text("model: m\nregisters: []\n")
    with pytest.raises(ConfigError) as err:
        parse_config(
            {"inverters": [{"name": "a", "transport": "tcp", "host": "h", "model_file": "m.yaml"}]},
            base_dir=tmp_path,
        )
    assert "inverters[0].model_file" in str(err.value) and "m.yaml" in str(err.value)
    with pytest.raises(ConfigError, match="max_frequency_hertz"):
        parse_config({"grid": {"min_frequency_hertz": 60, "max_frequency_hertz": 50}})


@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.sampled_from(["int16", "uint32", "string"])),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 125),
    st.integers(0, 30),
)
def test_plan_properties(regs: list[tuple[int, str]], max_registers: int, max_gap: int) -> None:
    specs = tuple(
        _spec(name=f"r{i}", address=a, type=t, **({"count": 3} if t == "string" else {}))
        for i, (a, t) in enumerate(regs)
    )
    specs = tuple(s for s in specs if s.width <= max_registers)
    if not specs:
        return
    ranges = plan(specs, max_registers, max_gap)
    assert all(1 <= r.count <= max_registers for r in ranges)
    assert all(a.start < b.start for a, b in itertools.pairwise(ranges))  # in address order
    for s in specs:  # every register whole inside one range: no read splits a block
        assert any(r.start <= s.address and s.address + s.width <= r.end for r in ranges)
