"""Failure modes of Bluetooth packs, each a clear reason on its own pack and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gridwatch.sim.bluez.bluetooth import FakeBluetooth
from gridwatch.sim.bluez.jkbms import JkPack
from tests.fixtures.jkbms import harness
from tests.fixtures.jkbms.harness import ADDRESSES, StartBatteries, battery, errors, up
from tests.fixtures.jkbms.profiles import BY_ID, CORRUPT, JK04, require_dbus_daemon
from tests.helpers import Samples, value

pytestmark = pytest.mark.integration
bt = harness.bt  # fixture
gw = harness.gw  # fixture
GOOD = BY_ID["jk02_32s_v11.48"]
TWO = [{"name": "good", "address": ADDRESSES[0]}, {"name": "bad", "address": ADDRESSES[1]}]


def down_lines(caplog: pytest.LogCaptureFixture, pack: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("gridwatch") and f"bms/{pack} is down" in r.getMessage()
    ]


async def test_corrupt_frame_is_a_payload_error_logged_once(
    bt: FakeBluetooth, gw: StartBatteries, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gridwatch")
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK_B2A8S20P", GOOD.frames()))
    bt.bluez.add_pack(JkPack(ADDRESSES[1], "JK_B2A8S30P", CORRUPT))
    running = await gw(devices=TWO, timeout="1.5s")

    s = await running.wait_for("two payload errors", lambda s: errors(s, "bad", "payload") >= 2)
    assert up(s, "bad") == 0
    assert battery(s, "voltage_volts", "bad") is None  # nothing from a frame that failed its sum
    assert up(s, "good") == 1
    assert battery(s, "voltage_volts", "good") == pytest.approx(26.509)
    assert len(down_lines(caplog, "bad")) == 1
    assert "checksum" in down_lines(caplog, "bad")[0]


async def test_disconnect_mid_frame_then_recovery(bt: FakeBluetooth, gw: StartBatteries) -> None:
    good = JkPack(ADDRESSES[0], "JK_B2A8S20P", GOOD.frames())
    flaky = JkPack(ADDRESSES[1], "JK_B2A8S20P", GOOD.frames(), drop_mid_frame=True)
    bt.bluez.add_pack(good)
    bt.bluez.add_pack(flaky)
    running = await gw(devices=TWO)

    s = await running.wait_for(
        "a mid-frame disconnect", lambda s: errors(s, "bad", "disconnected") >= 1
    )
    assert up(s, "bad") == 0 and up(s, "good") == 1
    assert battery(s, "voltage_volts", "bad") is None  # half a frame is no reading

    flaky.drop_mid_frame = False
    s = await running.wait_for("recovery", lambda s: up(s, "bad") == 1)
    assert battery(s, "voltage_volts", "bad") == pytest.approx(26.509)


async def test_pairing_required_until_paired(bt: FakeBluetooth, gw: StartBatteries) -> None:
    pack = JkPack(ADDRESSES[0], "JK_PB2A16S20P", GOOD.frames(), requires_pairing=True)
    bt.bluez.add_pack(pack)
    running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}])

    s = await running.wait_for(
        "pairing_required", lambda s: errors(s, "house", "pairing_required") >= 1
    )
    assert up(s, "house") == 0

    bt.bluez.pair(pack)  # what `bluetoothctl pair` does on a real host
    await running.wait_for("up after pairing", lambda s: up(s, "house") == 1)


async def test_out_of_range_is_not_found_and_values_go_stale(
    bt: FakeBluetooth, gw: StartBatteries
) -> None:
    pack = JkPack(ADDRESSES[0], "JK_B2A8S20P", GOOD.frames())
    bt.bluez.add_pack(pack)
    running = await gw(
        devices=[{"name": "house", "address": ADDRESSES[0]}], scan_timeout="0.5s", stale_after="2s"
    )
    await running.wait_for("a reading", lambda s: battery(s, "voltage_volts", "house") is not None)

    pack.in_range = False
    bt.bluez.disconnect(pack)  # walked out of range: the link drops, advertising stops
    s = await running.wait_for(
        "not_found and no stale values",
        lambda s: (
            errors(s, "house", "not_found") >= 1 and battery(s, "voltage_volts", "house") is None
        ),
    )
    assert up(s, "house") == 0
    assert not [k for k in s if k[0].startswith("gridwatch_battery_")]


@pytest.mark.parametrize(
    ("world", "reason"),
    [
        ({"adapters": 0}, "no_adapter"),
        ({"powered": False}, "no_adapter"),
        ({"bluez": False}, "no_bluetooth"),
    ],
    ids=["no-adapter", "adapter-powered-off", "dbus-without-bluez"],
)
async def test_host_without_working_bluetooth(
    gw: StartBatteries, world: dict[str, object], reason: str
) -> None:
    require_dbus_daemon()
    async with FakeBluetooth(**world):  # type: ignore[arg-type]
        running = await gw(devices=[{"name": "house", "address": ADDRESSES[0]}])
        s = await running.wait_for(reason, lambda s: errors(s, "house", reason) >= 1)
        assert up(s, "house") == 0


async def test_pack_that_never_answers_is_a_timeout(bt: FakeBluetooth, gw: StartBatteries) -> None:
    pack = JkPack(ADDRESSES[0], "JK_B2A8S20P", GOOD.frames(), silent=True)
    bt.bluez.add_pack(pack)
    running = await gw(
        devices=[{"name": "house", "address": ADDRESSES[0]}], timeout="1s", scan_timeout="0.5s"
    )
    s = await running.wait_for("a timeout", lambda s: errors(s, "house", "timeout") >= 1)
    assert up(s, "house") == 0
    assert pack.commands  # it was connected and asked: the silence is the pack's


def all_errors(s: Samples, pack: str) -> float:
    return sum(
        v
        for (metric, labels), v in s.items()
        if metric == "gridwatch_source_errors_total" and ("device", pack) in labels
    )


def updates(s: Samples, pack: str) -> float:
    return value(s, "gridwatch_source_updates_total", source="bms", device=pack) or 0


BAD_PACKS = {
    "corrupt-frame": ({"frames": CORRUPT}, "payload", "checksum"),
    "disconnect-mid-frame": ({"drop_mid_frame": True}, "disconnected", "dropped"),
    "pairing-required": ({"requires_pairing": True}, "pairing_required", "bluetoothctl pair"),
    "out-of-range": ({"in_range": False}, "not_found", "out of range"),
    "never-answers": ({"silent": True}, "timeout", "no complete answer"),
    "jk04-protocol": ({"frames": JK04}, "protocol", "JK04"),
}


@pytest.mark.parametrize("case", list(BAD_PACKS.values()), ids=list(BAD_PACKS))
async def test_each_failure_is_one_reason_one_log_line_and_spares_the_other_pack(
    bt: FakeBluetooth,
    gw: StartBatteries,
    caplog: pytest.LogCaptureFixture,
    case: tuple[dict[str, Any], str, str],
) -> None:
    fault, reason, hint = case
    caplog.set_level(logging.INFO, logger="gridwatch")
    bt.bluez.add_pack(JkPack(ADDRESSES[0], "JK_B2A8S20P", GOOD.frames()))
    bt.bluez.add_pack(JkPack(ADDRESSES[1], "JK_B2A8S30P", **{"frames": GOOD.frames(), **fault}))
    # A poll timeout with room to spare: on a loaded machine a corrupt frame answered late
    # must still count as the corrupt frame it is, not as a timeout.
    running = await gw(devices=TWO, timeout="4s", scan_timeout="0.5s")

    s = await running.wait_for(
        f"three {reason} errors",
        lambda s: errors(s, "bad", reason) >= 3 and updates(s, "good") >= 3,
        timeout=40,
    )
    reasons = {
        dict(labels)["reason"]: v
        for (metric, labels), v in s.items()
        if metric == "gridwatch_source_errors_total" and ("device", "bad") in labels
    }
    # The same reason every poll (a reason that flips would log every poll). A poll that a
    # loaded machine times out before the pack's answer arrives is honestly a timeout.
    stray = 0 if reason == "timeout" else reasons.get("timeout", 0)
    assert set(reasons) <= {reason, "timeout"} and stray <= 1, reasons
    assert up(s, "bad") == 0
    assert not [k for k in s if k[0].startswith("gridwatch_battery") and ("battery", "bad") in k[1]]
    # One line per reason: the fault's own, and at most one for a stray timeout (a reason that
    # changed is worth a line; the same reason again never is).
    lines = down_lines(caplog, "bad")
    ours = [line for line in lines if reason in line]
    assert len(ours) == 1 and hint in ours[0], lines
    assert len(lines) - len(ours) <= stray, lines
    # The good pack was polled in between, fully, and never went down.
    assert up(s, "good") == 1 and all_errors(s, "good") == 0
    assert battery(s, "voltage_volts", "good") == pytest.approx(26.509)
    assert down_lines(caplog, "good") == []
