"""PI17 units and ASCII inverters behind a transparent RS232-to-TCP bridge, against their
simulators: the values through the real `gridwatch run` process, then every fault (timeout, bad
CRC, NAK, garbage, the bridge closing mid-reply or between polls, the bridge gone) marking the
source down with the right reason, and recovery when the peer behaves again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gridwatch.sim.inverter.ascii_line import AsciiLineSimulator
from gridwatch.sim.inverter.ascii_tcp import AsciiTcpBridgeSimulator
from gridwatch.sim.inverter.voltronic import VoltronicDevice
from tests.helpers import value
from tests.integration.inverter_harness import (
    each_fault_recovers,
    errors,
    gridwatch_run,
    inverter_exporters,
    metrics_until,
    soc,
    up,
)

pytestmark = [pytest.mark.integration, pytest.mark.clock]

P = "gridwatch_inverter_"
FAULTS = (("corrupt_crc", "crc"), ("nak_all", "nak"), ("garbage", "payload"), ("silent", "timeout"))


async def test_pi17_and_a_bridged_pi30_max_through_gridwatch_run(tmp_path: Path) -> None:
    pi17_dev = VoltronicDevice("pi17", serial="96161704100242")
    max_dev = VoltronicDevice("pi30", max_model=True)
    async with AsciiLineSimulator(pi17_dev) as line, AsciiTcpBridgeSimulator(max_dev) as bridge:
        fast = {"interval": "0.2s", "timeout": "2s"}
        inverters = [
            {"name": "infini", "protocol": "pi17", "transport": "serial", "device": line.path},
            {"name": "axpert", "protocol": "pi30", "transport": "tcp", "host": "127.0.0.1",
             "port": bridge.port},
        ]  # fmt: skip
        grid = {"inverters": ["infini"], "consecutive_polls": 2}  # the PI17 unit decides
        async with gridwatch_run(tmp_path, [fast | i for i in inverters], grid=grid) as metrics:
            s = await metrics_until(
                metrics,
                lambda s: all(
                    value(s, P + "battery_soc_ratio", inverter=name) is not None
                    for name in ("infini", "axpert")
                ),
                "both inverters read",
            )
            # PI17: a three-phase unit under the names a three-phase Deye uses.
            for phase in ("l1", "l2", "l3"):
                volts = value(s, P + "mains_phase_voltage_volts", inverter="infini", phase=phase)
                assert volts == 230.0, phase
            assert value(s, P + "mains_frequency_hertz", inverter="infini") == 50.0
            assert value(s, P + "operating_mode", inverter="infini", mode="hybrid") == 1
            assert value(s, P + "warning", inverter="infini", warning="mains_fail") == 0
            assert (value(s, P + "energy_joules_total", inverter="infini", flow="pv") or 0) > 0
            info = {"inverter": "infini", "model": "pi17", "serial_number": "96161704100242"}
            assert value(s, "gridwatch_inverter_info", **info, firmware="00001.01") == 1
            # PI30 MAX over the bridge: status flags by role, the MAX extras, QET as joules.
            assert value(s, P + "status_flag", inverter="axpert", flag="load_on") == 1
            assert value(s, P + "status_flag", inverter="axpert", flag="switched_on") == 1
            assert value(s, P + "status_flag", inverter="axpert", flag="feed_to_grid_enabled") == 1
            assert value(s, P + "grid_export_power_watts", inverter="axpert") == 0
            assert value(s, P + "warning", inverter="axpert", warning="battery_weak") == 0
            wh = max_dev.pv_energy_wh()
            joules = value(s, P + "energy_joules_total", inverter="axpert", flow="pv")
            assert joules is not None and abs(wh * 3600 - joules) < 3600 * 60  # read, not made up
            assert value(s, P + "pv_power_watts", inverter="axpert", string="2") is not None
            await metrics_until(metrics, lambda s: value(s, "gridwatch_grid_up") == 1, "grid up")
            # The grid goes away on the three-phase unit: every phase 0 V, mains_fail, grid down.
            pi17_dev.grid_override = False
            s = await metrics_until(
                metrics, lambda s: value(s, "gridwatch_grid_up") == 0, "grid down on the PI17 unit"
            )
            assert value(s, P + "warning", inverter="infini", warning="mains_fail") == 1
            for phase in ("l1", "l2", "l3"):
                volts = value(s, P + "mains_phase_voltage_volts", inverter="infini", phase=phase)
                assert volts == 0, phase
    # Slow commands are not asked every poll (slow_interval: 60 s by default).
    assert pi17_dev.requests.count("^P005PIRI") < pi17_dev.requests.count("^P003GS")
    assert max_dev.requests.count("QET") < max_dev.requests.count("QPIGS")


@contextlib.asynccontextmanager
async def bridged(
    device: VoltronicDevice,
) -> AsyncIterator[tuple[AsciiTcpBridgeSimulator, dict[str, Any]]]:
    async with AsciiTcpBridgeSimulator(device) as bridge:
        yield bridge, {"transport": "tcp", "host": "127.0.0.1", "port": bridge.port}


@pytest.mark.parametrize("family", ["pi30", "pi18", "pi17"])
async def test_bridge_faults_mark_the_source_down_and_it_recovers(
    tmp_path: Path, family: str
) -> None:
    device = VoltronicDevice(family, max_model=True)
    async with (
        bridged(device) as (bridge, where),
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(protocol=family, connect_timeout="0.5s", **where)
        await gw.wait_for("values", lambda s: up(s) == 1 and soc(s) is not None)
        await each_fault_recovers(gw, device, FAULTS, until_stale=True)
        # The bridge's Wi-Fi drops in the middle of a reply: half a frame, then the connection
        # closes. gridwatch reads until CR, never by length: the half is no reply.
        bridge.drop_mid_reply = True
        s = await gw.wait_for("half reply", lambda s: errors(s, "disconnected") >= 1)
        assert up(s) == 0
        bridge.drop_mid_reply = False
        await gw.wait_for("recovery after the half reply", lambda s: up(s) == 1)
        # Line noise on the bridge's serial side: hundreds of bytes and no CR.
        bridge.noise = True
        s = await gw.wait_for("noise", lambda s: errors(s, "protocol") >= 1)
        assert up(s) == 0
        bridge.noise = False
        await gw.wait_for("recovery after the noise", lambda s: up(s) == 1)
        # A late reply (after the timeout) must not answer the next command: the connection is
        # dropped at the timeout, so no reply is ever taken for another command's.
        s = await gw.scrape()
        timeouts, mixups = errors(s, "timeout"), errors(s, "payload") + errors(s, "protocol")
        bridge.delay = 0.8
        await gw.wait_for("late reply", lambda s: errors(s, "timeout") > timeouts)
        bridge.delay = 0.0
        await gw.wait_for("recovery after the late reply", lambda s: up(s) == 1)
        s = await gw.scrape()
        assert errors(s, "payload") + errors(s, "protocol") == mixups
        # The bridge closes idle connections between polls (a reboot): reconnect, no error.
        before = bridge.connections
        failures = sum(errors(s, r) for r in ("disconnected", "connection"))
        bridge.disconnect()
        await gw.wait_for("reconnected", lambda s: up(s) == 1 and bridge.connections > before)
        asked = len(device.requests)
        await gw.wait_for("two polls more", lambda s: len(device.requests) >= asked + 8)
        s = await gw.scrape()
        assert sum(errors(s, r) for r in ("disconnected", "connection")) == failures


async def test_a_bridge_that_is_gone_is_a_connection_error_until_it_is_back(
    tmp_path: Path,
) -> None:
    device = VoltronicDevice("pi30")
    bridge = AsciiTcpBridgeSimulator(device)
    await bridge.start()
    port = bridge.port
    async with inverter_exporters(tmp_path, timeout="0.5s") as start:
        gw = await start(
            protocol="pi30", transport="tcp", host="127.0.0.1", port=port, connect_timeout="0.5s"
        )
        await gw.wait_for("values", lambda s: up(s) == 1)
        await bridge.stop()
        s = await gw.wait_for("bridge gone", lambda s: errors(s, "connection") >= 1)
        assert up(s) == 0
        bridge = AsciiTcpBridgeSimulator(device, port=port)
        await bridge.start()
        try:
            await gw.wait_for("bridge back", lambda s: up(s) == 1)
        finally:
            await bridge.stop()


@pytest.mark.parametrize("transport", ["serial", "hid"])
async def test_pi17_line_faults_mark_the_source_down_and_it_recovers(
    tmp_path: Path, transport: str
) -> None:
    device = VoltronicDevice("pi17")
    async with (
        AsciiLineSimulator(device, hid=transport == "hid") as line,
        inverter_exporters(tmp_path, timeout="0.5s") as start,
    ):
        gw = await start(protocol="pi17", transport=transport, device=line.path)
        await gw.wait_for("values", lambda s: up(s) == 1 and soc(s) is not None)
        await each_fault_recovers(gw, device, [f for f in FAULTS if f[0] != "nak_all"])
        assert line.unpadded == 0
