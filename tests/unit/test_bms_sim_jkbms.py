"""The simulated JK pack answers like the real BLE module: checked commands, chunked frames."""

from __future__ import annotations

import pytest

from gridwatch.sim.bluez.jkbms import AT_JUNK, READY_ACK, JkFrames, JkPack, command_ok
from gridwatch.sim.bluez.jkbms_frames import JK02_24S_V10_08, JK02_32S_V19_27
from tests.fixtures.jkbms.profiles import BY_ID
from tests.fixtures.jkbms.profiles import HERE as PROJECT
from tests.helpers import shared_fixture_files

CMD_97 = bytes.fromhex("aa5590eb970000000000000000000000000000" + "11")
CMD_96 = bytes.fromhex("aa5590eb960000000000000000000000000000" + "10")


def test_command_checksum() -> None:
    assert command_ok(CMD_97) and command_ok(CMD_96)
    assert not command_ok(CMD_97[:-1] + b"\x12")
    assert not command_ok(CMD_97[:10])


def test_device_info_then_ack_in_mtu_sized_notifications() -> None:
    pack = JkPack("C8:47:80:0F:D5:C5", "JK", JK02_24S_V10_08)
    response = pack.on_write(CMD_97)
    assert all(len(n) <= 20 for n in response.notifications)
    stream = b"".join(response.notifications)
    assert stream == JK02_24S_V10_08.device_info + READY_ACK + AT_JUNK
    assert pack.commands == [0x97]


def test_attached_ack_is_not_sent_twice() -> None:
    frames = BY_ID["jk02_32s_v19.05_ack_attached"].frames()
    assert frames.ack_attached
    stream = b"".join(JkPack("A", "JK", frames, chunk_size=128).on_write(CMD_97).notifications)
    assert stream == frames.device_info


def test_mid_frame_drop_sends_half_a_frame_then_disconnects() -> None:
    pack = JkPack("A", "JK", JK02_24S_V10_08, drop_mid_frame=True)
    response = pack.on_write(CMD_96)
    assert response.disconnect
    assert 0 < len(b"".join(response.notifications)) < len(JK02_24S_V10_08.cell_info)


def test_garbage_is_ignored() -> None:
    pack = JkPack("A", "JK", JkFrames(b"", b""))
    assert pack.on_write(b"hello").notifications == []
    assert pack.commands == []


def test_project_copies_and_demo_frames_equal_the_shared_captures() -> None:
    shared = {p.name: p for p in shared_fixture_files("jkbms", "*.bin")}
    if not shared:
        pytest.skip("../shared/fixtures not present")
    for copy in sorted(PROJECT.glob("*.bin")):
        assert copy.read_bytes() == shared[copy.name].read_bytes(), copy.name
    assert JK02_24S_V10_08.cell_info == shared["aiobmsble_JK02_24S_cell.bin"].read_bytes()
    assert JK02_32S_V19_27.device_info == shared["aiobmsble_JK02_32S_v19_27_dev.bin"].read_bytes()


def test_settings_frame_comes_first_each_frame_in_its_own_notifications() -> None:
    frames = BY_ID["jk02_32s_v19.04_absent_sensors"].frames()
    assert frames.settings[4] == 0x01  # a real settings frame (batmon-ha issue 377)
    notifications = JkPack("A", "JK", frames).on_write(CMD_96).notifications
    stream = b"".join(notifications)
    assert stream == AT_JUNK + frames.settings + AT_JUNK + frames.cell_info
    # The cell frame's header opens a notification, as aiobmsble's assembler needs it to.
    assert any(n.startswith(AT_JUNK + frames.cell_info[:16]) for n in notifications)
