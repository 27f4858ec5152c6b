"""Configuration: validation messages name the file and key path; secrets stay secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridwatch.config import ConfigError, load_config, parse_config
from gridwatch.config_types import parse_duration
from gridwatch.demo import builtin_config

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "fixtures" / "config"


def check_config(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridwatch", "check-config", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


# The examples are checked in test_examples.py (with their secrets and environment staged).


@pytest.mark.parametrize(
    ("name", "key_path", "message"),
    [
        ("invalid_fuse.yml", "meters[0].fuse_amperes", "greater than 0"),
        ("invalid_unknown_key.yml", "meters[0].fuse_ampere", "unknown key"),
        ("invalid_duration.yml", "meters[0].interval", "expected a duration"),
        ("invalid_yaml.yml", "", "YAML syntax error at line 3"),
        ("invalid_v2_without_token.yml", "meters[0]", "pair-homewizard"),
    ],
)
def test_invalid_configs_exit_2_naming_file_and_key(name: str, key_path: str, message: str) -> None:
    result = check_config(INVALID / name)
    assert result.returncode == 2
    assert str(INVALID / name) in result.stderr
    assert f"{key_path or '(top level)'}: " in result.stderr
    assert message in result.stderr


def test_missing_file_exits_2() -> None:
    result = check_config(INVALID / "does-not-exist.yml")
    assert result.returncode == 2
    assert "cannot read file" in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("5m", 300), ("1.5h", 5400), ("500ms", 0.5), (30, 30), ("2d", 172800), ("7", 7)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "10 minutes", "-5s", "0s", True, None, "5x"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def meter(**extra: object) -> dict[str, object]:
    return {"meters": [{"name": "home", "host": "192.0.2.1", **extra}]}


def test_token_from_env_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_TEST_TOKEN", "ABCDEF0123456789ABCDEF0123456789")
    config = parse_config(meter(token="${GW_TEST_TOKEN}"))
    m = config.meters[0]
    assert m.resolved_token() == "ABCDEF0123456789ABCDEF0123456789"
    assert m.uses_v2
    assert "ABCDEF0123456789" not in repr(config) and "ABCDEF0123456789" not in str(m)


def test_unset_env_names_variable_and_key() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(meter(token="${GW_SURELY_UNSET_VAR}"), "x.yml")
    assert err.value.problems == [
        ("meters[0].token", "environment variable GW_SURELY_UNSET_VAR is not set")
    ]


def test_token_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("00112233445566778899AABBCCDDEEFF\n")
    m = parse_config(meter(token_file=str(secret))).meters[0]
    assert m.resolved_token() == "00112233445566778899AABBCCDDEEFF"
    with pytest.raises(ConfigError, match=r"meters\[0\]\.token_file: cannot read"):
        parse_config(meter(token_file=str(tmp_path / "missing")))
    with pytest.raises(ConfigError, match="either token or token_file"):
        parse_config(meter(token_file=str(secret), token="x"))


def test_api_auto_is_v1_without_token_and_staleness_default() -> None:
    m = parse_config(meter(interval="5s")).meters[0]
    assert not m.uses_v2
    assert m.staleness == 15
    assert parse_config(meter(interval="5s", stale_after="1m")).meters[0].staleness == 60


def test_duplicate_meter_names_and_bad_levels() -> None:
    twice = {"meters": [{"name": "a", "host": "h"}, {"name": "a", "host": "i"}]}
    with pytest.raises(
        ConfigError, match=r"meters\[1\]\.name: .a. is already the name of meters\[0\]"
    ):
        parse_config(twice)
    with pytest.raises(ConfigError, match="critical"):
        parse_config(meter(imbalance_warning_amperes=10, imbalance_critical_amperes=5))


def test_p1_battery_group_needs_api_v2() -> None:
    with pytest.raises(ConfigError, match="batteries: true needs API v2"):
        parse_config(meter(api="v1", batteries=True))
    assert parse_config(meter(api="v2", token="t", batteries=True)).meters[0].batteries


def test_empty_file_is_a_valid_empty_config(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_config(path).meters == []
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_builtin_demo_config_is_valid() -> None:
    config = builtin_config()
    assert [m.name for m in config.meters] == ["home"]


def test_relative_token_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "hw.token").write_text("00112233445566778899AABBCCDDEEFF")
    path = tmp_path / "gridwatch.yml"
    path.write_text("meters:\n  - name: home\n    host: h\n    token_file: hw.token\n")
    assert load_config(path).meters[0].resolved_token() == "00112233445566778899AABBCCDDEEFF"
