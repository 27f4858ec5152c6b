"""`gridwatch scan-inverter` as a user runs it, against simulated PI30, PI18, PI17 and SMG-II
units, on a serial port and behind a transparent RS232-to-TCP bridge."""

from __future__ import annotations

import asyncio

import pytest

from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.ascii_tcp import AsciiTcpBridgeSimulator
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.serial import SerialInverterSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from gridwatch.sources.inverter.regmap import load_shipped
from gridwatch.sources.inverter.scan import PROBES, Target, scan
from tests.integration.test_cli import gridwatch

pytestmark = pytest.mark.integration


async def scan_output(*args: str) -> tuple[int, str]:
    proc = await gridwatch("scan-inverter", "--timeout", "0.5", *args)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert b"Traceback" not in stderr, stderr.decode()
    assert proc.returncode is not None
    return proc.returncode, stdout.decode()


async def test_scan_finds_a_pi30_unit_on_a_serial_port() -> None:
    device = VoltronicDevice("pi30", serial="9293333010501")
    async with AsciiLineSimulator(device) as line:
        code, out = await scan_output(line.path)
    assert code == 0, out
    assert (
        "pi30        answered: PI30 — protocol PI30, serial 9293333010501, firmware 00072.70" in out
    )
    assert "protocol: pi30\n    transport: serial\n    device: " + line.path in out
    # Read-only: identification queries only, never a setter.
    assert device.requests == ["QPI", "QID", "QVFW"]


async def test_scan_finds_a_pi18_unit_after_pi30_is_refused() -> None:
    async with AsciiLineSimulator(VoltronicDevice("pi18", serial="96132209100190")) as line:
        code, out = await scan_output(line.path)
    assert code == 0, out
    assert "pi30        no (nak" in out
    assert "answered: PI18 — protocol PI18, serial 96132209100190" in out
    assert "protocol: pi18" in out


async def test_scan_finds_a_pi17_unit_after_pi30_and_pi18_are_refused() -> None:
    device = VoltronicDevice("pi17", serial="96161704100242")
    async with AsciiLineSimulator(device) as line:
        code, out = await scan_output(line.path)
    assert code == 0, out
    assert "pi30        no (nak" in out and "pi18        no (nak" in out
    assert "answered: PI17 — protocol PI17, serial 96161704100242, firmware 00001.01" in out
    assert "protocol: pi17\n    transport: serial" in out
    # Read-only: the identification queries of each family, nothing else (QPI is refused
    # before it counts; PI18's query arrives with its CRC, which a PI17 unit does not expect).
    assert [r[:7] for r in device.requests] == ["^P005PI", "^P003PI", "^P003ID", "^P004VF"]


async def test_scan_finds_a_pi30_unit_behind_a_tcp_bridge() -> None:
    device = VoltronicDevice("pi30", serial="9293333010501")
    async with AsciiTcpBridgeSimulator(device) as bridge:
        code, out = await scan_output(f"127.0.0.1:{bridge.port}")
    assert code == 0, out
    assert "pi30        answered: PI30 — protocol PI30, serial 9293333010501" in out
    assert (
        f"protocol: pi30\n    transport: tcp\n    host: 127.0.0.1\n    port: {bridge.port}" in out
    )
    assert device.requests == ["QPI", "QID", "QVFW"]


async def test_scan_over_hid_in_process() -> None:
    async with AsciiLineSimulator(VoltronicDevice("pi30"), hid=True) as line:
        attempts = await scan(Target("hid", line.path, 0.5))
        assert line.unpadded == 0
    found = attempts[-1].found
    assert found is not None and found.config == {
        "protocol": "pi30",
        "transport": "hid",
        "device": line.path,
    }


async def test_scan_finds_a_modbus_smg_and_nothing_at_all() -> None:
    device = InverterDevice(load_shipped("smg_ii"), serial="92B32408100363")
    async with SerialInverterSimulator(device) as line:
        code, out = await scan_output(line.path)
        assert code == 0, out
        assert "modbus_smg  answered: Modbus RTU (SMG-II family) — serial 92B32408100363" in out
        assert "protocol: modbus" in out
        line.silent = True
        code, out = await scan_output(line.path)
    assert code == 1
    assert "Nothing answered" in out


def test_every_probe_names_its_targets() -> None:
    # ASCII first on a serial line; the Deye probe (device-type register) before the SMG read.
    assert [p.name for p in PROBES] == ["pi30", "pi18", "pi17", "deye", "modbus_smg"]
    assert all(p.kinds for p in PROBES)


@pytest.mark.parametrize(
    ("kind", "model", "what"),
    [
        ("deye-3p", "deye_sg0xlp3", "LV three-phase"),
        ("deye-3p-hv", "deye_sg01hp3", "HV three-phase"),
    ],
)
async def test_scan_finds_a_deye_behind_its_solarman_stick(
    kind: str, model: str, what: str
) -> None:
    from gridwatch.sim.inverter.deye import deye_device
    from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator

    sim = SolarmanLoggerSimulator(deye_device(kind))
    await sim.start()
    try:
        target = f"127.0.0.1:{sim.port}"
        code, out = await scan_output(target, "--logger-serial", str(sim.logger_serial))
    finally:
        await sim.stop()
    assert code == 0, out
    assert "deye" in out and what in out  # from the device-type register (5 LV, 6 HV)
    assert "transport: solarman" in out and f"logger_serial: {sim.logger_serial}" in out
    assert f"model: {model}" in out
