"""The `batteries:` section: defaults, explicit devices, and errors with their key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.config import ConfigError, parse_config

A = "c8:47:80:0f:d5:c5"


def test_defaults_and_relative_devices_file(tmp_path: Path) -> None:
    config = parse_config(
        {"batteries": {"devices": [{"name": "house", "address": A}], "devices_file": "bms.yml"}},
        base_dir=tmp_path,
    )
    batteries = config.batteries
    assert batteries is not None
    assert batteries.devices[0].address == A.upper() and batteries.devices[0].type == "jikong_bms"
    assert batteries.devices_file == tmp_path / "bms.yml"
    assert (batteries.interval, batteries.rescan_interval, batteries.keep_alive) == (
        30.0,
        3600.0,
        True,
    )
    # Three rounds, each may wait one timeout per pack.
    assert batteries.staleness(packs=4) == 3 * 4 * batteries.timeout


@pytest.mark.parametrize(
    ("batteries", "path", "problem"),
    [
        ({"devices": [{"name": "h", "address": "xx"}]}, "batteries.devices[0].address", "match"),
        (
            {"devices": [{"name": "h", "address": A, "type": "nope_bms"}]},
            "batteries.devices[0].type",
            "unknown BMS type",
        ),
        (
            {"devices": [{"name": "h", "address": A}, {"name": "h", "address": A[:-1] + "6"}]},
            "batteries.devices[1].name",
            "is already the name of batteries.devices[0]",
        ),
        ({"interval": "soon"}, "batteries.interval", "duration"),
        ({"keep_alive": "maybe"}, "batteries.keep_alive", "boolean"),
        ({"adapter": "usb0"}, "batteries.adapter", "match"),
        ({"scan_timeout": "30s", "timeout": "20s"}, "batteries", "scan_timeout must be shorter"),
        ({"scan_seconds": 3}, "batteries.scan_seconds", "unknown key"),
    ],
)
def test_invalid_batteries_config(batteries: dict[str, object], path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"batteries": batteries}, "gridwatch.yml")
    assert any(p == path and problem in m for p, m in info.value.problems), info.value.problems


def test_a_broken_devices_file_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "bms.yml").write_text("devices:\n  - name: x\n    address: 12\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        parse_config({"batteries": {"devices_file": "bms.yml"}}, "gw.yml", base_dir=tmp_path)
    [(path, message)] = info.value.problems
    assert path == "batteries"
    assert "bms.yml: devices[0]: address" in message
