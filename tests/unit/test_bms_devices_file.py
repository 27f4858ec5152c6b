"""The devices file: readable YAML, user names survive every rescan, bad entries are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.sources.bms.config import BatteryDevice
from gridwatch.sources.bms.devices_file import (
    DevicesFileError,
    combine,
    load_devices,
    merge,
    save_devices,
    slug,
)

A, B, C = "C8:47:80:0F:D5:C5", "C8:47:80:12:34:56", "C8:47:80:AB:CD:EF"


def test_missing_file_is_an_empty_list(tmp_path: Path) -> None:
    assert load_devices(tmp_path / "absent.yml") == []


def test_round_trip_is_plain_readable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bms.yml"
    devices = [
        BatteryDevice(name="house", address=A.lower()),
        BatteryDevice(name="old", address=B, type="jbd_bms", enabled=False),
    ]
    save_devices(path, devices)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#")  # the header tells a reader what the file is
    assert "- name: house\n  address: C8:47:80:0F:D5:C5\n  type: jikong_bms\n" in text
    assert "enabled: false" in text
    assert load_devices(path) == [devices[0], devices[1]]
    assert not list(path.parent.glob(".*tmp"))  # the atomic write leaves no temp file


def test_merge_appends_new_packs_and_never_touches_existing_entries() -> None:
    existing = [
        BatteryDevice(name="garage", address=A),  # the user renamed the scanned pack
        BatteryDevice(name="spare", address=B, enabled=False),
    ]
    found = [(A, "JK_B2A8S20P", "jikong_bms"), (B, "JK_X", "jikong_bms"), (C, "garage", "jbd_bms")]
    merged, added = merge(existing, found)
    assert merged[:2] == existing
    assert added == [BatteryDevice(name="garage-2", address=C, type="jbd_bms")]
    assert merged[2:] == added


def test_names_from_advertisements_are_label_safe() -> None:
    assert slug("JK_B2A8S20P") == "jk_b2a8s20p"
    assert slug("Batterie Unten #1 ") == "batterie-unten-1"
    assert slug("   ") == "battery"
    _, added = merge([], [(A, "", "jikong_bms")])
    assert added[0].name == "0fd5c5"  # no name advertised: the address tail


def test_config_devices_win_and_disabled_packs_are_not_polled() -> None:
    configured = [BatteryDevice(name="house", address=A)]
    from_file = [
        BatteryDevice(name="jk-1", address=A),  # same pack as in the config: config wins
        BatteryDevice(name="house", address=B),  # name clash: the config's pack wins
        BatteryDevice(name="off", address=C, enabled=False),
    ]
    assert combine(configured, from_file) == configured


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("devices: [", "not valid YAML"),
        ("- a\n- b\n", "`devices:` list"),
        ("devices:\n  - name: x\n    address: nonsense\n", "devices[0]: address"),
        ("devices:\n  - name: x\n    address: C8:47:80:0F:D5:C5\n    type: nope\n", "unknown BMS"),
        (
            "devices:\n  - {name: x, address: 'C8:47:80:0F:D5:C5'}\n"
            "  - {name: x, address: 'C8:47:80:0F:D5:C6'}\n",
            "used twice: x",
        ),
    ],
)
def test_invalid_files_name_file_entry_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bms.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DevicesFileError) as info:
        load_devices(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)
