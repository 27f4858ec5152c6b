"""Which packs the battery source polls when the config and the devices file both list packs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gridwatch.config import parse_config
from gridwatch.core.state import StateStore
from gridwatch.sources.bms.source import BatteryFleet

A, B, C = "C8:47:80:0F:D5:C5", "C8:47:80:12:34:56", "C8:47:80:AB:CD:EF"


def test_a_file_entry_shadowed_by_a_configured_name_is_named_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bms.yml").write_text(
        "devices:\n"
        f"  - {{name: house, address: '{B}'}}\n"  # another pack under a configured name
        f"  - {{name: jk-1, address: '{A}'}}\n"  # the configured pack itself: no warning
        f"  - {{name: shed, address: '{C}'}}\n",
        encoding="utf-8",
    )
    config = parse_config(
        {"batteries": {"devices": [{"name": "house", "address": A}], "devices_file": "bms.yml"}},
        base_dir=tmp_path,
    ).batteries
    assert config is not None
    caplog.set_level(logging.WARNING, logger="gridwatch")

    fleet = BatteryFleet(config, StateStore())
    assert sorted(fleet.packs) == ["house", "shed"]
    assert fleet.packs["house"].device.address == A
    fleet._devices()  # what a rescan does again: no second warning
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert B in warnings[0] and "'house'" in warnings[0] and "bms.yml" in warnings[0]
