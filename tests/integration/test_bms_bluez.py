"""JK packs read through the real bleak BlueZ backend and aiobmsble, against the fake BlueZ.

Every value asserted here is the one documented beside the captured frame (see
tests/fixtures/jkbms/profiles.py); the frames travel as 20-byte BLE notifications.
"""

from __future__ import annotations

import pytest

from gridwatch.sim.bluez.bluetooth import FakeBluetooth
from gridwatch.sim.bluez.jkbms import CMD_CELL_INFO, CMD_DEVICE_INFO, JkPack
from tests.fixtures.jkbms import harness
from tests.fixtures.jkbms.harness import ADDRESSES, StartBatteries, battery, up
from tests.fixtures.jkbms.profiles import (
    BY_ID,
    PROBLEM_BITS,
    PROFILES,
    Profile,
    with_problem_bits,
)
from tests.helpers import Samples, value

pytestmark = pytest.mark.integration
bt = harness.bt  # fixture
gw = harness.gw  # fixture


def assert_documented_values(s: Samples, name: str, profile: Profile) -> None:
    e = profile.expected
    assert battery(s, "voltage_volts", name) == pytest.approx(e.voltage)
    assert battery(s, "current_amperes", name) == pytest.approx(e.current)
    assert battery(s, "power_watts", name) == pytest.approx(e.voltage * e.current, abs=0.01)
    assert battery(s, "charging", name) == (1 if e.current > 0.05 else 0)
    assert battery(s, "soc_ratio", name) == pytest.approx(e.soc / 100)
    assert battery(s, "soh_ratio", name) == pytest.approx(e.soh / 100)
    assert battery(s, "cycles_total", name) == e.cycles
    assert battery(s, "remaining_charge_coulombs", name) == pytest.approx(e.remaining_ah * 3600)
    assert battery(s, "design_charge_coulombs", name) == e.design_ah * 3600
    assert battery(s, "cells", name) == len(e.cells)
    for number, volts in enumerate(e.cells, start=1):
        assert battery(s, "cell_voltage_volts", name, cell=str(number)) == volts
    assert battery(s, "cell_voltage_volts", name, cell=str(len(e.cells) + 1)) is None
    assert battery(s, "cell_delta_volts", name) == pytest.approx(e.delta)
    assert battery(s, "lowest_cell_number", name) == e.cells.index(min(e.cells)) + 1
    assert battery(s, "highest_cell_number", name) == e.cells.index(max(e.cells)) + 1
    temps = [
        (dict(labels)["sensor"], dict(labels)["type"], v)
        for (metric, labels), v in s.items()
        if metric == "gridwatch_battery_temperature_celsius" and ("battery", name) in labels
    ]
    assert {("generic", e.temp1), ("generic", e.temp2), ("mosfet", e.mos_temp)} <= {
        (kind, v) for _, kind, v in temps
    }
    # Every documented sensor and no other (−200 °C marks an absent one: never exported).
    assert sorted(v for *_, v in temps) == sorted((e.temp1, e.temp2, e.mos_temp, *e.more_temps))
    assert sorted(int(sensor) for sensor, *_ in temps) == list(range(1, len(temps) + 1))
    assert battery(s, "charge_mosfet_on", name) == int(e.charge_fet)
    assert battery(s, "discharge_mosfet_on", name) == int(e.discharge_fet)
    assert battery(s, "balance_current_amperes", name) == pytest.approx(e.balance_current)
    assert battery(s, "problem", name) == 0
    assert battery(s, "problem_code", name) == 0
    runtime = battery(s, "runtime_seconds", name)
    if e.current < -0.05:
        assert runtime == pytest.approx(e.remaining_ah / -e.current * 3600)
    else:
        assert runtime is None  # charging or idle: no time-to-empty
    info = next(
        dict(labels)
        for (metric, labels), _ in s.items()
        if metric == "gridwatch_battery_info" and ("battery", name) in labels
    )
    assert info["sw_version"] == e.sw_version
    assert info["type"] == "jikong_bms"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.id)
async def test_pack_values_match_the_documented_frame(
    bt: FakeBluetooth, gw: StartBatteries, profile: Profile
) -> None:
    pack = JkPack(ADDRESSES[0], "JK_B2A8S20P", profile.frames())
    bt.bluez.add_pack(pack)
    running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}])

    s = await running.wait_for(
        "the pack's first reading", lambda s: battery(s, "voltage_volts", "house") is not None
    )
    assert up(s, "house") == 1
    assert_documented_values(s, "house", profile)
    # The real JK exchange happened: device info (0x97) first, then cell info (0x96).
    # (aiobmsble asks again when a reply is slow, so a busy machine can see 0x97 twice.)
    assert CMD_DEVICE_INFO in pack.commands and CMD_CELL_INFO in pack.commands
    assert pack.commands.index(CMD_DEVICE_INFO) < pack.commands.index(CMD_CELL_INFO)


async def test_two_packs_of_both_layouts_at_once(bt: FakeBluetooth, gw: StartBatteries) -> None:
    small, large = BY_ID["jk02_32s_v19.27_balancing"], BY_ID["jk02_24s_v10.07_24cells"]
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK-PB2A16S20P", small.frames()))
    bt.bluez.add_pack(JkPack(ADDRESSES[1], "JK-B2A24S20P", large.frames(), chunk_size=128))
    running = await gw(
        devices=[
            {"name": "house", "address": ADDRESSES[0]},
            {"name": "garage", "address": ADDRESSES[1].lower()},
        ]
    )

    s = await running.wait_for(
        "readings of both packs",
        lambda s: all(battery(s, "voltage_volts", n) is not None for n in ("house", "garage")),
    )
    assert_documented_values(s, "house", small)
    assert_documented_values(s, "garage", large)
    assert battery(s, "balancing", "house") == 1  # v19.27 frame: balancer on at 1.99 A
    assert bt.bluez.max_connected == 2  # keep_alive (the default): both links stay up


async def test_keep_alive_off_reconnects_for_every_poll(
    bt: FakeBluetooth, gw: StartBatteries
) -> None:
    profile = BY_ID["jk02_32s_v11.48"]
    pack = JkPack(ADDRESSES[0], "JK_B2A8S20P", profile.frames())
    bt.bluez.add_pack(pack)
    running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}], keep_alive=False)

    def polled_twice(s: Samples) -> bool:
        return (s.get(("gridwatch_source_updates_total", frozenset(
            {("source", "bms"), ("device", "house")}))) or 0) >= 2  # fmt: skip

    s = await running.wait_for("two polls", polled_twice)
    assert_documented_values(s, "house", profile)
    # Each connection starts with device info: two connections, two 0x97 commands.
    assert pack.commands.count(CMD_DEVICE_INFO) >= 2


async def test_pack_left_connected_by_a_previous_run_is_still_read(
    bt: FakeBluetooth, gw: StartBatteries
) -> None:
    # A connected JK stops advertising, so only BlueZ's own record of the link finds it.
    profile = BY_ID["jk02_32s_v11.48"]
    pack = JkPack(ADDRESSES[0], "JK_B2A8S20P", profile.frames())
    bt.bluez.add_pack(pack)
    bt.bluez.connect(pack)
    running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}])

    s = await running.wait_for("a reading", lambda s: up(s, "house") == 1)
    assert_documented_values(s, "house", profile)


@pytest.mark.parametrize("profile_id", ["jk02_24s_v10.08", "jk02_32s_v11.48"])
async def test_protection_bits_become_problem_code_and_flag(
    bt: FakeBluetooth, gw: StartBatteries, profile_id: str
) -> None:
    profile = BY_ID[profile_id]
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK_B2A8S20P", with_problem_bits(profile)))
    running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}])

    s = await running.wait_for("a reading", lambda s: up(s, "house") == 1)
    # Pack over-voltage (bit 5) and cell under-voltage (bit 11), in either layout's error word.
    assert battery(s, "problem_code", "house") == PROBLEM_BITS == 0x820
    assert battery(s, "problem", "house") == 1
    # An alarm is the pack's state, not a failed read: the rest of the frame is still exported.
    assert battery(s, "voltage_volts", "house") == pytest.approx(profile.expected.voltage)
    assert battery(s, "cells", "house") == len(profile.expected.cells)


async def test_packs_are_polled_one_after_another(bt: FakeBluetooth, gw: StartBatteries) -> None:
    names = ["a", "b", "c"]
    for address, profile in zip(ADDRESSES, PROFILES[:3], strict=True):
        bt.bluez.add_pack(JkPack(address, "JK_B2A8S20P", profile.frames()))
    running = await gw(
        devices=[{"name": n, "address": a} for n, a in zip(names, ADDRESSES, strict=True)],
        keep_alive=False,  # each poll connects and disconnects, so overlapping polls would show
    )

    def two_rounds(s: Samples) -> bool:
        return all(
            (value(s, "gridwatch_source_updates_total", source="bms", device=n) or 0) >= 2
            for n in names
        )

    s = await running.wait_for("two rounds over three packs", two_rounds, timeout=40)
    for name, profile in zip(names, PROFILES[:3], strict=True):
        assert battery(s, "voltage_volts", name) == pytest.approx(profile.expected.voltage)
    # Never two links at once: the adapter only ever saw one pack connected.
    assert bt.bluez.max_connected == 1
