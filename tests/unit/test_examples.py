"""examples/: full.yml shows every config key, and every example is a setup that validates.

The key list comes from the pydantic models themselves, so a new key without an example (or a
key renamed in the code but not in the examples) fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from gridwatch.config import Config, load_config, parse_config
from gridwatch.receiver.app import receiver_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yml"))
FULL = EXAMPLES_DIR / "full.yml"
CONFIGURATION_MD = ROOT / "docs" / "configuration.md"
ALERT_RULES = ROOT / "prometheus" / "rules" / "alerts.yml"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A commented-out key (`# token_file: x`) is the alternative to the key above it: it counts as
# shown, and must still be a real key (checked like the active ones).
_COMMENTED_KEY = re.compile(r"^(\s*)# ([a-z_]+:(?:\s.*)?)$", re.MULTILINE)

# Secrets with a shape the models check; anything else gets a HomeWizard-like hex token.
_DUMMY_SECRETS = {
    "bot_token": "123456789:" + "A" * 35,
    "local_key": "0123456789abcdef",
}
_DUMMY_DEFAULT = "0123456789ABCDEF0123456789ABCDEF"


@dataclass(frozen=True)
class Nested:
    """How a field holds further models: one or a list, and by which discriminator value."""

    many: bool
    discriminator: str | None
    variants: dict[str, type[BaseModel]]  # discriminator value (or "") → model

    def child_path(self, path: str, variant: str) -> str:
        if self.discriminator:
            selector = f"{self.discriminator}={variant}"
            return f"{path}[{selector}]" if self.many else f"{path}({selector})"
        return f"{path}[]" if self.many else path


def _members(annotation: Any) -> tuple[list[Any], str | None]:
    """The types an annotation allows (Optional and Annotated unwrapped) and its discriminator."""
    discriminator = None
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *metadata = get_args(annotation)
            for meta in metadata:
                if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                    discriminator = meta.discriminator
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
            return members, discriminator
        return [annotation], discriminator


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def nested(field: FieldInfo) -> Nested | None:
    members, discriminator = _members(field.annotation)
    if isinstance(field.discriminator, str):
        discriminator = field.discriminator
    many = False
    if len(members) == 1 and get_origin(members[0]) is list:
        many = True
        members, inner = _members(get_args(members[0])[0])
        discriminator = discriminator or inner
    models = [m for m in members if _is_model(m)]
    if not models:
        return None
    if len(models) == 1 and discriminator is None:
        return Nested(many, None, {"": models[0]})
    assert discriminator is not None, f"a union of models without a discriminator: {field}"
    variants = {}
    for model in models:
        (value,) = get_args(model.model_fields[discriminator].annotation)
        variants[str(value)] = model
    return Nested(many, discriminator, variants)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def model_fields(model: type[BaseModel], prefix: str = "") -> dict[str, FieldInfo]:
    """Every key path the models accept, e.g. ``receiver.tuya.plugs[backend=local].local_key``."""
    found: dict[str, FieldInfo] = {}
    for name, field in model.model_fields.items():
        path = _join(prefix, name)
        found[path] = field
        if (inner := nested(field)) is not None:
            for variant, sub in inner.variants.items():
                found |= model_fields(sub, inner.child_path(path, variant))
    return found


@dataclass
class Written:
    """What a YAML document writes, walked along the models (not validated)."""

    paths: set[str]
    unknown: list[str]
    # (path of a list's item model, key) → values written, for required Literal keys
    selectors: dict[tuple[str, str], set[object]]


def written(
    model: type[BaseModel], data: object, prefix: str = "", out: Written | None = None
) -> Written:
    out = out if out is not None else Written(set(), [], {})
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        path = _join(prefix, str(key))
        field = model.model_fields.get(str(key))
        if field is None:
            out.unknown.append(path)
            continue
        out.paths.add(path)
        inner = nested(field)
        if inner is None or value is None:
            continue
        items = value if inner.many and isinstance(value, list) else [value]
        for item in items:
            variant = ""
            if inner.discriminator:
                variant = str(item.get(inner.discriminator)) if isinstance(item, dict) else ""
                if isinstance(item, dict) and inner.discriminator not in item:
                    # a variant whose selector has a default is chosen when it is left out
                    # (meters[].type: homewizard)
                    variant = next(
                        (v for v, m in inner.variants.items()
                         if not m.model_fields[inner.discriminator].is_required()),
                        variant,
                    )  # fmt: skip
                if variant not in inner.variants:
                    out.unknown.append(f"{path}: {inner.discriminator} {variant!r}")
                    continue
            sub = inner.variants[variant]
            sub_path = inner.child_path(path, variant)
            if inner.many and isinstance(item, dict):
                for name, sub_field in sub.model_fields.items():
                    if sub_field.is_required() and get_origin(sub_field.annotation) is Literal:
                        out.selectors.setdefault((sub_path, name), set()).add(item.get(name))
            written(sub, item, sub_path, out)
    return out


def values_written(
    instance: BaseModel, data: object, prefix: str, out: dict[str, list[object]]
) -> None:
    """Validated value of every key the YAML writes, by key path."""
    if not isinstance(data, dict):
        return
    model = type(instance)
    for key, value in data.items():
        path = _join(prefix, key)
        field = model.model_fields[key]
        validated = getattr(instance, key)
        out.setdefault(path, []).append(validated)
        inner = nested(field)
        if inner is None or validated is None:
            continue
        pairs = zip(validated, value, strict=True) if inner.many else [(validated, value)]
        for sub_instance, sub_data in pairs:
            variant = str(getattr(sub_instance, inner.discriminator)) if inner.discriminator else ""
            values_written(sub_instance, sub_data, inner.child_path(path, variant), out)


def secret_names() -> set[str]:
    return {
        path.rsplit(".", 1)[-1]
        for path, field in model_fields(Config).items()
        if SecretStr in _members(field.annotation)[0]
    }


def _key_values(node: object, key: str = "") -> list[tuple[str, object]]:
    """Every (key, scalar value) in parsed YAML; list items keep their list's key."""
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in _key_values(v, str(k))]
    if isinstance(node, list):
        return [kv for v in node for kv in _key_values(v, key)]
    return [(key, node)]


def _dummy(key: str) -> str:
    return _DUMMY_SECRETS.get(key, _DUMMY_DEFAULT)


def stage(example: Path, into: Path) -> tuple[Path, dict[str, str]]:
    """Copy an example into ``into`` with dummy secret files and the environment it references."""
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    env: dict[str, str] = {}
    secret_files = {f"{name}_file": name for name in secret_names()}
    for key, value in _key_values(data):
        if isinstance(value, str):
            for name in _ENV_REF.findall(value):
                env[name] = _dummy(key)
        if key in secret_files and value is not None:
            path = Path(str(value))
            assert not path.is_absolute(), (
                f"{example.name}: {key}: {path}: examples name secret files relative to the "
                "config (e.g. /etc/gridwatch/…), so they validate wherever the file is"
            )
            (into / path).parent.mkdir(parents=True, exist_ok=True)
            (into / path).write_text(_dummy(secret_files[key]) + "\n", encoding="utf-8")
    target = into / example.name
    shutil.copyfile(example, target)
    return target, env


def load_staged(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    target, env = stage(example, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_config(target)


# --- every key is in full.yml ------------------------------------------------------------------


def full_written() -> Written:
    text = _COMMENTED_KEY.sub(r"\1\2", FULL.read_text(encoding="utf-8"))
    return written(Config, yaml.safe_load(text))


def test_full_example_shows_every_key_of_every_model() -> None:
    shown = full_written()
    assert not shown.unknown, f"examples/full.yml: keys the models do not know: {shown.unknown}"
    missing = sorted(set(model_fields(Config)) - shown.paths)
    assert not missing, f"add these keys to examples/full.yml: {missing}"


def test_the_walk_sees_nested_lists_and_each_union_variant() -> None:
    # The coverage test is only as good as this walk: it must reach into list items and into
    # each variant of a discriminated union, and tell the variants apart.
    paths = set(model_fields(Config))
    assert {
        "meters[type=homewizard].token_file",
        "inverters[].dongle_port",
        "tariff.grid.transfer_periods[].hours.end",
        "batteries.devices[].enabled",
        "receiver.telegram.bot_token_file",
        "receiver.tuya.plugs[backend=local].local_key_file",
        "receiver.tuya.plugs[backend=cloud].switch_code",
        "receiver.tuya.cloud.access_secret_file",
        "receiver.actions[].resolved",
    } <= paths
    assert "receiver.tuya.plugs[backend=cloud].local_key" not in paths
    one_plug = {"receiver": {"tuya": {"plugs": [{"backend": "cloud", "name": "x"}]}}}
    assert written(Config, one_plug).paths == {
        "receiver",
        "receiver.tuya",
        "receiver.tuya.plugs",
        "receiver.tuya.plugs[backend=cloud].backend",
        "receiver.tuya.plugs[backend=cloud].name",
    }
    assert written(Config, {"meters": [{"fuse_ampere": 16}]}).unknown == [
        "meters[type=homewizard].fuse_ampere"
    ]


def test_full_example_has_one_entry_per_kind_of_list_item() -> None:
    # e.g. one inverter per transport: each wiring's keys are shown where they apply.
    selectors = written(Config, yaml.safe_load(FULL.read_text(encoding="utf-8"))).selectors
    assert ("inverters[]", "transport") in selectors
    for (path, key), seen in selectors.items():
        field = model_fields(Config)[f"{path}.{key}"]
        kinds = set(get_args(field.annotation))
        assert kinds <= seen, f"examples/full.yml: add {path} entries with {key}: {kinds - seen}"


def test_full_example_writes_each_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key with a default is written with that default at least once (as the file says)."""
    target, env = stage(FULL, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # relative paths stay as written: data_dir is compared as `data`
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    config = parse_config(data, str(target), base_dir=None)
    seen: dict[str, list[object]] = {}
    values_written(config, data, "", seen)
    wrong = []
    for path, field in model_fields(Config).items():
        if field.is_required() or nested(field) is not None:
            continue
        default = field.get_default(call_default_factory=True)
        if default is None or default in ([], {}):
            continue  # absent is the default: nothing to show
        if default not in seen.get(path, []):
            wrong.append(f"{path}: default {default!r}, written {seen.get(path, 'nowhere')}")
    assert not wrong, "examples/full.yml must show these defaults:\n" + "\n".join(wrong)


# --- every example validates -------------------------------------------------------------------


def test_there_are_the_documented_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"full.yml", "sweden-p1.yml", "ukraine-offgrid.yml"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_passes_check_config(example: Path, tmp_path: Path) -> None:
    target, env = stage(example, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "gridwatch", "check-config", str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{target}: OK" in result.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_also_a_receiver_config(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_staged(example, tmp_path, monkeypatch)
    if config.receiver is None:
        pytest.skip("no receiver section")
    # What `gridwatch receiver` checks before it starts: its section and the webhook token.
    _, token = receiver_settings(config, str(example))
    assert token


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_secrets_are_references_only(example: Path) -> None:
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    for key, value in _key_values(data):
        if key in secret_names():
            assert isinstance(value, str) and _ENV_REF.fullmatch(value), (
                f"{example.name}: {key} must be a ${{VAR}} reference (or use {key}_file)"
            )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_without_its_environment_names_the_variable(example: Path, tmp_path: Path) -> None:
    target, env = stage(example, tmp_path)
    if not env:
        pytest.skip("references no environment variable")
    hidden = {k: v for k, v in os.environ.items() if k not in env}
    result = subprocess.run(
        [sys.executable, "-m", "gridwatch", "check-config", str(target)],
        capture_output=True,
        text=True,
        env=hidden,
        check=False,
    )
    assert result.returncode == 2
    for name in env:
        assert f"environment variable {name} is not set" in result.stderr
    for value in env.values():
        assert value not in result.stderr + result.stdout


# --- the two households ------------------------------------------------------------------------


def _grid_down_labels() -> dict[str, str]:
    rules = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "GridDown":
                return {"alertname": "GridDown", **rule.get("labels", {})}
    raise AssertionError("no GridDown rule in prometheus/rules/alerts.yml")


def test_ukraine_example_sheds_load_on_the_real_grid_down_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_staged(EXAMPLES_DIR / "ukraine-offgrid.yml", tmp_path, monkeypatch)
    assert config.site.timezone == "Europe/Kyiv"
    (inverter,) = config.inverters
    assert inverter.transport == "eybond" and inverter.model == "smg_ii"
    # docs/alerts.md's latency budget: 3 agreeing polls 2 s apart.
    assert inverter.interval == 2.0 and config.grid.consecutive_polls == 3
    assert config.batteries is not None
    assert [d.type for d in config.batteries.devices] == ["jikong_bms", "jikong_bms"]
    assert config.outages is not None and config.outages.queue == "5.2"
    receiver = config.receiver
    assert receiver is not None and receiver.token_file is not None
    assert receiver.telegram is not None and receiver.telegram.language == "uk"
    assert receiver.telegram.bot_token is not None  # from ${TELEGRAM_BOT_TOKEN}
    assert receiver.tuya is not None and receiver.tuya.stagger > 0
    heavy = receiver.tuya.groups["heavy"]
    backends = {p.name: p.backend for p in receiver.tuya.plugs}
    assert {"boiler", "heater", "washer"} <= set(heavy)
    assert {backends[n] for n in ("boiler", "heater", "washer")} == {"local"}
    assert "cloud" in backends.values()
    labels = _grid_down_labels()
    (rule,) = [r for r in receiver.actions if r.matches(labels)]
    assert "heavy" in rule.groups
    assert rule.switch_to("firing") is False and rule.switch_to("resolved") is True


def test_sweden_example_is_a_complete_swedish_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_staged(EXAMPLES_DIR / "sweden-p1.yml", tmp_path, monkeypatch)
    assert config.site.timezone == "Europe/Stockholm"
    (meter,) = config.meters
    assert meter.uses_v2 and meter.fuse_amperes == 20
    assert config.prices is not None and config.prices.area.startswith("SE")
    assert config.prices.price_currency == "SEK"
    assert config.tariff is not None and config.tariff.capacity_fee is not None
    assert config.tariff.energy_tax_per_kwh > 0 and config.tariff.grid.monthly_fee > 0
    assert "phase_near_fuse_ratio" in config.alerts.model_fields_set
    assert config.receiver is not None and config.receiver.telegram is not None
    assert config.receiver.telegram.language == "sv"


# --- docs/configuration.md ---------------------------------------------------------------------


def _sections(text: str) -> dict[str, str]:
    """Each `## ` section of configuration.md by its heading."""
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0]: part for part in parts}


def _mentions(text: str, key: str) -> bool:
    return re.search(rf"`[^`\n]*(?<![\w-]){re.escape(key)}(?![\w-])[^`\n]*`", text) is not None


def test_configuration_reference_documents_every_section_and_key() -> None:
    sections = _sections(CONFIGURATION_MD.read_text(encoding="utf-8"))
    missing = []
    for top in Config.model_fields:
        headed = [body for heading, body in sections.items() if _mentions(heading, top)]
        assert headed, f"docs/configuration.md: no section heading names `{top}`"
        # The table is in the section itself or on a page it links to.
        text = "\n".join(headed)
        for page in re.findall(r"\]\(([a-z_-]+\.md)[)#]", text):
            text += (CONFIGURATION_MD.parent / page).read_text(encoding="utf-8")
        for path in model_fields(Config):
            if path == top or path.startswith((f"{top}.", f"{top}[")):
                key = path.rsplit(".", 1)[-1]
                if not _mentions(text, key):
                    missing.append(path)
    assert not missing, f"docs/configuration.md does not document: {missing}"
