"""The exporter against the Eybond dongle simulator on loopback: values, faults, grid state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gridwatch.config import parse_config
from gridwatch.sim.inverter.device import InverterDevice
from gridwatch.sim.inverter.eybond import EybondDongleSimulator
from gridwatch.sources.inverter.regmap import load_shipped
from tests.helpers import Samples, names, value
from tests.integration.conftest import Running, exporters_under_test

pytestmark = pytest.mark.integration
INV = {"source": "inverter", "device": "smg"}
Start = Callable[..., Awaitable[Running]]


def errors(s: Samples, reason: str) -> float:
    return value(s, "gridwatch_source_errors_total", **INV, reason=reason) or 0


@pytest.fixture
async def dongle() -> AsyncIterator[EybondDongleSimulator]:
    sim = EybondDongleSimulator(InverterDevice(load_shipped("smg_ii")))
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with exporters_under_test() as run_exporter:

        async def run(
            sim: EybondDongleSimulator, grid: dict[str, Any] | None = None, **extra: Any
        ) -> Running:
            inverter = {
                "name": "smg",
                "transport": "eybond",
                "host": "127.0.0.1",
                "dongle_port": sim.udp_port,
                "listen_host": "127.0.0.1",
                "listen_port": 0,
                "interval": "0.2s",
                "timeout": "0.5s",
                "connect_timeout": "1s",
                "battery_capacity_wh": 5120,
                **extra,
            }
            config = parse_config(
                {
                    "site": {"data_dir": str(tmp_path)},
                    "exporter": {"listen_address": "127.0.0.1", "port": 0},
                    "inverters": [inverter],
                    "grid": grid or {"consecutive_polls": 2},
                }
            )
            return await run_exporter(config)

        yield run


def soc(s: Samples) -> float | None:
    return value(s, "gridwatch_inverter_battery_soc_ratio", inverter="smg")


async def test_reads_every_value_through_the_dongle(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    gw = await start(dongle)
    s = await gw.wait_for("inverter values", lambda s: soc(s) is not None)
    assert soc(s) == 0.66
    assert value(s, "gridwatch_inverter_mains_voltage_volts", inverter="smg") is not None
    assert value(s, "gridwatch_inverter_operating_mode", inverter="smg", mode="off_grid") == 1
    assert value(s, "gridwatch_inverter_operating_mode", inverter="smg", mode="mains") == 0
    assert value(s, "gridwatch_inverter_fault", inverter="smg", fault="output_overload") == 0
    assert (
        value(
            s,
            "gridwatch_inverter_setting_state",
            inverter="smg",
            setting="output_priority",
            state="sbu",
        )
        == 1
    )
    assert value(s, "gridwatch_inverter_battery_capacity_watthours", inverter="smg") == 5120
    info = [labels for n, labels in s if n == "gridwatch_inverter_info"]
    assert ("serial_number", "92B32408100363") in info[0]
    assert value(s, "gridwatch_source_up", **INV) == 1
    s = await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
    assert value(s, "gridwatch_grid_signal_up", source="inverter", device="smg") == 1
    assert dongle.connections == 1  # one connection reused across polls


async def test_grid_loss_and_return_are_debounced_and_timed(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    gw = await start(dongle)
    await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
    dongle.device.grid_override = False
    s = await gw.wait_for("grid down", lambda s: value(s, "gridwatch_grid_up") == 0)
    down_at = value(s, "gridwatch_grid_last_change_timestamp_seconds")
    assert down_at is not None
    assert value(s, "gridwatch_inverter_mains_voltage_volts", inverter="smg") == 0
    dongle.device.grid_override = True
    s = await gw.wait_for("grid back", lambda s: value(s, "gridwatch_grid_up") == 1)
    up_at = value(s, "gridwatch_grid_last_change_timestamp_seconds")
    assert up_at is not None and up_at > down_at


async def test_failed_polls_make_the_grid_unknown_not_down(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    gw = await start(dongle)
    await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
    dongle.silent = True
    s = await gw.wait_for("timeouts", lambda s: errors(s, "timeout") >= 1)
    assert value(s, "gridwatch_source_up", **INV) == 0
    assert value(s, "gridwatch_grid_up") is None  # unknown: absent, never 0
    dongle.silent = False
    await gw.wait_for("grid known again", lambda s: value(s, "gridwatch_grid_up") == 1)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("corrupt_crc", "crc"),
        ("wrong_tid", "protocol"),
        ("drop_mid_reply", "disconnected"),
    ],
)
async def test_bad_replies_mark_the_source_down_and_it_recovers(
    dongle: EybondDongleSimulator, start: Start, fault: str, reason: str
) -> None:
    gw = await start(dongle)
    await gw.wait_for("first reading", lambda s: soc(s) is not None)
    setattr(dongle, fault, True)
    s = await gw.wait_for(f"{reason} errors", lambda s: errors(s, reason) >= 2)
    assert value(s, "gridwatch_source_up", **INV) == 0
    setattr(dongle, fault, False)
    await gw.wait_for("recovery", lambda s: value(s, "gridwatch_source_up", **INV) == 1)


async def test_modbus_exception_is_reported(dongle: EybondDongleSimulator, start: Start) -> None:
    gw = await start(dongle)
    dongle.device.exception = 7
    s = await gw.wait_for("exceptions", lambda s: errors(s, "modbus_exception") >= 1)
    assert soc(s) is None and value(s, "gridwatch_source_up", **INV) == 0
    status, page, _ = await gw.get("/")
    assert status == 200 and "not allowed in the current working mode" in page
    dongle.device.exception = None
    await gw.wait_for("recovery", lambda s: soc(s) is not None)


async def test_heartbeats_between_replies_are_skipped(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    dongle.heartbeat = True
    gw = await start(dongle)
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    assert errors(s, "protocol") == 0


async def test_dongle_that_connects_late_or_not_at_all(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    dongle.ignore_wakeups = True
    gw = await start(dongle)
    s = await gw.wait_for("no connect-back", lambda s: errors(s, "connection") >= 1)
    assert dongle.wakeups >= 1 and value(s, "gridwatch_source_up", **INV) == 0
    dongle.ignore_wakeups = False
    dongle.connect_delay = 1.5  # later than connect_timeout: adopted when it arrives
    await gw.wait_for("late dongle accepted", lambda s: soc(s) is not None)


async def test_reconnects_leak_no_sockets(dongle: EybondDongleSimulator, start: Start) -> None:
    gw = await start(dongle)
    await gw.wait_for("first reading", lambda s: soc(s) is not None)
    source = gw.exporter.sources[0]
    port = source.transport.listen_port  # type: ignore[attr-defined]
    fds_before = len(os.listdir("/proc/self/fd"))
    for n in range(2, 7):
        await dongle.disconnect()

        def reconnected(s: Samples, n: int = n) -> bool:
            return dongle.connections >= n and soc(s) is not None

        await gw.wait_for(f"connection {n}", reconnected)
    await gw.wait_for("steady", lambda s: dongle.connected)
    assert source.transport.listen_port == port  # type: ignore[attr-defined]
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 1
    await gw.exporter.stop()
    assert port not in _listening_ports(), "the listener outlived the exporter"


def _listening_ports() -> set[int]:
    """Ports of the machine's listening TCP sockets (state 0A in /proc/net/tcp*)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A":
                    ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


async def test_wrong_map_is_reported_once_as_bad_model(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gridwatch")
    eleven_k = EybondDongleSimulator(InverterDevice(load_shipped("smg_ii_11k")))
    await eleven_k.start()
    try:
        gw = await start(eleven_k)  # the vendor map against an 11K: its 2xx block reads 0
        s = await gw.wait_for("bad model", lambda s: errors(s, "bad_model") >= 3)
        hints = [r for r in caplog.records if "bad_model" in r.getMessage()]
        assert len(hints) == 1 and "try smg_ii_11k or smx_ii" in hints[0].getMessage()
        assert "gridwatch_inverter_battery_voltage_volts" not in names(s)  # nothing exported
        assert value(s, "gridwatch_source_up", **INV) == 0
        _status, page, _ = await gw.get("/")
        assert "smg_ii_11k" in page
    finally:
        await eleven_k.stop()


async def test_listen_port_in_use_is_a_clear_error(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        gw = await start(dongle, listen_port=taken.getsockname()[1])
        s = await gw.wait_for("listen failure", lambda s: errors(s, "connection") >= 1)
        assert value(s, "gridwatch_source_up", **INV) == 0
        _, page, _ = await gw.get("/")
        assert "cannot listen on 127.0.0.1" in page


async def test_connections_from_other_hosts_are_closed(
    dongle: EybondDongleSimulator, start: Start
) -> None:
    gw = await start(dongle)
    await gw.wait_for("first reading", lambda s: soc(s) is not None)
    port = gw.exporter.sources[0].transport.listen_port  # type: ignore[attr-defined]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
    try:
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed without a word
    finally:
        writer.close()
    before = dongle.requests
    s = await gw.wait_for("dongle still polled", lambda s: dongle.requests > before + 5)
    assert value(s, "gridwatch_source_up", **INV) == 1
