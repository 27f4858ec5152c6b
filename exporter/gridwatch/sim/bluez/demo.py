"""Demo part for batteries: a fake BlueZ with JK packs on a private D-Bus.

The configured packs become simulated JK packs at the same addresses (alternating a 16-cell
JK02_24S and an 8-cell JK02_32S from real captures), reached by the real bleak BlueZ backend
through ``DBUS_SYSTEM_BUS_ADDRESS`` — set for this process until the demo stops.
"""

from __future__ import annotations

import contextlib

from gridwatch.config import Config
from gridwatch.core.clock import Clock, system_clock
from gridwatch.sim.bluez.bluetooth import FakeBluetooth
from gridwatch.sim.bluez.dbus_daemon import dbus_daemon_binary
from gridwatch.sim.bluez.jkbms import JkPack
from gridwatch.sim.bluez.jkbms_frames import JK02_24S_V10_08, JK02_32S_V19_27
from gridwatch.sources.bms import BATTERIES
from gridwatch.sources.bms.config import BatteriesConfig, BatteryDevice

DEFAULT_PACKS = (
    BatteryDevice(name="house", address="C8:47:80:0F:D5:C5"),
    BatteryDevice(name="garage", address="C8:47:80:12:34:56"),
)


async def demo_part(
    config: Config, stack: contextlib.AsyncExitStack, clock: Clock = system_clock
) -> tuple[Config, list[str]]:
    if dbus_daemon_binary() is None:
        return config.model_copy(update={BATTERIES.key: None}), [
            "  batteries    dbus-daemon not installed (apt-get install dbus) — battery demo skipped"
        ]
    batteries = BATTERIES.of(config) or BatteriesConfig(devices=list(DEFAULT_PACKS))
    devices = batteries.devices or list(DEFAULT_PACKS)
    bluetooth = FakeBluetooth()
    await bluetooth.start()
    stack.push_async_callback(bluetooth.close)
    lines = []
    for index, device in enumerate(devices):
        frames = (JK02_24S_V10_08, JK02_32S_V19_27)[index % 2]
        pack = JkPack(device.address, f"JK-demo-{index + 1}", frames)
        bluetooth.bluez.add_pack(pack)
        layout = "JK02_24S, 16 cells" if frames is JK02_24S_V10_08 else "JK02_32S, 8 cells"
        lines.append(
            f"  battery {device.name!r} (simulated JK BMS {device.address}, {layout}) "
            "via a fake BlueZ on a private D-Bus"
        )
    # A demo never writes into a user's devices file, and polls briskly.
    demo = batteries.model_copy(
        update={
            "devices": [d.model_copy(update={"type": "jikong_bms"}) for d in devices],
            "devices_file": None,
            "scan_timeout": min(batteries.scan_timeout, 5.0),
        }
    )
    return config.model_copy(update={BATTERIES.key: demo}), lines
