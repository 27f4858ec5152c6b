"""Discovery through the fake BlueZ: `gridwatch scan-bms`, the devices file, periodic rescans."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import yaml

from gridwatch.sim.bluez.bluetooth import FakeBluetooth
from gridwatch.sim.bluez.jkbms import JkPack
from gridwatch.sources.bms.devices_file import load_devices
from tests.fixtures.jkbms import harness
from tests.fixtures.jkbms.harness import ADDRESSES, StartBatteries, battery, up
from tests.fixtures.jkbms.profiles import BY_ID

pytestmark = pytest.mark.integration
bt = harness.bt  # fixture
gw = harness.gw  # fixture
SMALL = BY_ID["jk02_32s_v11.48"]
LARGE = BY_ID["jk02_24s_v10.08"]


async def scan_bms(*args: str) -> tuple[int, str, str]:
    """The real CLI in a child process; it inherits DBUS_SYSTEM_BUS_ADDRESS of the fake."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gridwatch",
        "scan-bms",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def add_world(bt: FakeBluetooth) -> None:
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK_B2A8S20P", SMALL.frames()))
    bt.bluez.add_pack(JkPack(ADDRESSES[1], "JK-B2A20S20P", LARGE.frames(), rssi=-80))
    # A phone nearby: advertises, but no aiobmsble class claims it.
    bt.bluez.add_pack(
        JkPack(ADDRESSES[2], "Pixel 8", SMALL.frames(), manufacturer_id=0x00E0, rssi=-50)
    )


async def test_scan_bms_lists_packs_with_their_class_and_saves_them(
    bt: FakeBluetooth, tmp_path: Path
) -> None:
    add_world(bt)
    devices = tmp_path / "bms-devices.yml"

    code, out, err = await scan_bms("--duration", "1")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(lines) == 2  # the phone is not a BMS
    assert ADDRESSES[0] in lines[0] and "jikong_bms" in lines[0] and "Jikong smart BMS" in lines[0]
    assert ADDRESSES[1] in lines[1]  # weaker signal listed second
    assert not devices.exists()  # without --save nothing is written

    code, out, err = await scan_bms("--duration", "1", "--save", "--devices-file", str(devices))
    assert code == 0, err
    saved = load_devices(devices)
    assert [(d.name, d.address, d.type) for d in saved] == [
        ("jk_b2a8s20p", ADDRESSES[0], "jikong_bms"),
        ("jk-b2a20s20p", ADDRESSES[1], "jikong_bms"),
    ]
    assert devices.read_text(encoding="utf-8").startswith("# Bluetooth battery packs")


async def test_scan_bms_keeps_names_the_user_gave(bt: FakeBluetooth, tmp_path: Path) -> None:
    add_world(bt)
    devices = tmp_path / "bms-devices.yml"
    devices.write_text(
        yaml.safe_dump({"devices": [{"name": "garage", "address": ADDRESSES[1]}]}),
        encoding="utf-8",
    )
    config = tmp_path / "gridwatch.yml"  # the devices file is found through the config
    config.write_text(
        "batteries:\n  devices_file: bms-devices.yml\n  scan_duration: 1s\n", encoding="utf-8"
    )

    code, out, err = await scan_bms("-c", str(config), "--save")
    assert code == 0, err
    assert "1 new pack(s)" in out
    names = {d.address: d.name for d in load_devices(devices)}
    assert names == {ADDRESSES[1]: "garage", ADDRESSES[0]: "jk_b2a8s20p"}


async def test_scan_bms_without_dbus_fails_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-socket")
    code, _, err = await scan_bms("--duration", "1")
    assert code == 1
    assert "no_bluetooth" in err and "D-Bus" in err
    assert "Traceback" not in err


async def test_rescan_adds_new_packs_and_keeps_user_names(
    bt: FakeBluetooth, gw: StartBatteries, tmp_path: Path
) -> None:
    devices = tmp_path / "bms-devices.yml"
    devices.write_text(
        "devices:\n  - name: garage  # renamed by the user\n"
        f"    address: {ADDRESSES[0]}\n    type: jikong_bms\n",
        encoding="utf-8",
    )
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK_B2A8S20P", SMALL.frames()))
    running = await gw(devices_file=str(devices), rescan_interval="1s", scan_duration="0.5s")
    await running.wait_for("the listed pack", lambda s: up(s, "garage") == 1)

    # A new pack is installed; the next rescan finds it and polling starts.
    bt.bluez.add_pack(JkPack(ADDRESSES[1], "JK-B2A20S20P", LARGE.frames()))
    s = await running.wait_for("the new pack", lambda s: up(s, "jk-b2a20s20p") == 1)
    assert battery(s, "voltage_volts", "jk-b2a20s20p") == pytest.approx(52.971)
    assert battery(s, "voltage_volts", "garage") == pytest.approx(26.509)
    saved = {d.address: d.name for d in load_devices(devices)}
    assert saved == {ADDRESSES[0]: "garage", ADDRESSES[1]: "jk-b2a20s20p"}
    scan_up = s.get(
        ("gridwatch_source_up", frozenset({("source", "bms_scan"), ("device", "bluetooth")}))
    )
    assert scan_up == 1


async def test_scan_bms_save_refuses_a_broken_devices_file(
    bt: FakeBluetooth, tmp_path: Path
) -> None:
    add_world(bt)
    devices = tmp_path / "bms-devices.yml"
    broken = "devices:\n  - name: garage\n    address: not-an-address\n"
    devices.write_text(broken, encoding="utf-8")

    code, _, err = await scan_bms("--duration", "1", "--save", "--devices-file", str(devices))
    assert code == 2
    assert str(devices) in err and "devices[0]: address" in err
    assert devices.read_text(encoding="utf-8") == broken  # the user's file is left as it was
