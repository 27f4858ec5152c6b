"""The exporter against the Solarman V5 logger simulator with a simulated Deye behind it.

Values and the vocabulary (per-phase series on the three-phase unit, totals without ``phase``),
the grid state from a Deye, and every quirk of §3.2: the ones a logger shows while working
(heartbeats, AT text, split and late replies, a doubled CRC) read fine; the ones where no
usable reply comes mark the source down with their reason, and it recovers when they stop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from tests.helpers import Samples, value
from tests.integration.inverter_harness import Start, errors, inverter_exporters, soc, up

pytestmark = pytest.mark.integration


@pytest.fixture(params=["deye-1p", "deye-3p"])
async def logger(request: pytest.FixtureRequest) -> AsyncIterator[SolarmanLoggerSimulator]:
    sim = SolarmanLoggerSimulator(deye_device(request.param))
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    async with inverter_exporters(tmp_path, timeout="0.4s") as run:
        yield run


def solarman(sim: SolarmanLoggerSimulator, **extra: object) -> dict[str, object]:
    return {
        "transport": "solarman",
        "host": "127.0.0.1",
        "port": sim.port,
        "logger_serial": sim.logger_serial,
        "model": sim.device.regmap.model,
        "battery_capacity_wh": 5120,
        **extra,
    }


def inv(s: Samples, name: str, **labels: str) -> float | None:
    return value(s, f"gridwatch_inverter_{name}", inverter="smg", **labels)


ALL_DEYES = pytest.mark.parametrize(
    "logger", ["deye-1p", "deye-3p", "deye-3p-hv"], indirect=True
)  # the quirks below are the stick's: the LP units stand for all


@ALL_DEYES
async def test_reads_a_deye_through_the_logger_in_the_common_vocabulary(
    logger: SolarmanLoggerSimulator, start: Start
) -> None:
    gw = await start(**solarman(logger))
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    assert soc(s) == 0.66
    # + charging in gridwatch's vocabulary, whatever the inverter's own sign.
    battery = logger.device.values()["battery_power"]
    assert inv(s, "battery_power_watts") == pytest.approx(battery, abs=60)
    assert inv(s, "battery_voltage_volts") is not None
    assert inv(s, "pv_power_watts", string="1") is not None
    assert inv(s, "grid_connected") == 1
    assert inv(s, "energy_joules_total", flow="pv") is not None
    assert inv(s, "output_power_watts") is not None  # the total: no phase label
    three_phase = logger.device.regmap.model in {"deye_sg0xlp3", "deye_sg01hp3"}
    for phase in ("l1", "l2", "l3"):
        got = inv(s, "mains_phase_voltage_volts", phase=phase)
        assert (got is not None) == three_phase
        assert (inv(s, "output_phase_power_watts", phase=phase) is not None) == three_phase
    assert (inv(s, "mains_voltage_volts") is not None) != three_phase
    info = [labels for n, labels in s if n == "gridwatch_inverter_info"]
    assert ("serial_number", "2306241234") in info[0]
    s = await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
    assert logger.connections == 1  # one connection reused across polls


@ALL_DEYES
async def test_grid_loss_and_return_from_a_deye(
    logger: SolarmanLoggerSimulator, start: Start
) -> None:
    gw = await start(**solarman(logger))
    await gw.wait_for("grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
    logger.device.grid_override = False
    s = await gw.wait_for("grid down", lambda s: value(s, "gridwatch_grid_up") == 0)
    assert inv(s, "grid_connected") == 0
    logger.device.grid_override = True
    await gw.wait_for("grid back", lambda s: value(s, "gridwatch_grid_up") == 1)


@pytest.mark.parametrize(
    "quirk", ["heartbeat_before", "at_text", "split", "double_crc", "wrong_serial"]
)
async def test_quirks_of_a_working_logger_are_read_through(
    logger: SolarmanLoggerSimulator, start: Start, quirk: str
) -> None:
    setattr(logger, quirk, True)
    gw = await start(**solarman(logger))
    s = await gw.wait_for("values", lambda s: soc(s) is not None)
    assert up(s) == 1
    assert sum(errors(s, r) for r in ("timeout", "crc", "protocol")) == 0


@pytest.mark.parametrize(
    ("quirk", "reason"),
    [
        ("heartbeat_instead", "timeout"),
        ("stub_payload", "no_reply"),
        ("late", "timeout"),
        ("corrupt_crc", "crc"),
        ("silent", "timeout"),
    ],
)
async def test_no_usable_reply_marks_the_source_down_and_it_recovers(
    logger: SolarmanLoggerSimulator,
    start: Start,
    quirk: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    gw = await start(**solarman(logger))
    await gw.wait_for("first reading", lambda s: soc(s) is not None)
    setattr(logger, quirk, True)
    s = await gw.wait_for(f"{reason} errors", lambda s: errors(s, reason) >= 2)
    assert up(s) == 0
    s = await gw.wait_for("stale values gone", lambda s: soc(s) is None)
    assert value(s, "gridwatch_grid_up") is None  # unknown, never a stale "up"
    setattr(logger, quirk, False)
    await gw.wait_for("recovery", lambda s: up(s) == 1 and soc(s) is not None)
    # Every failed poll is counted; the log says it once, with the reason, and once it is back.
    downs = [r.getMessage() for r in caplog.records if "is down" in r.getMessage()]
    assert len(downs) == 1 and reason in downs[0], downs


async def test_modbus_exception_through_the_logger(
    logger: SolarmanLoggerSimulator, start: Start
) -> None:
    gw = await start(**solarman(logger))
    logger.device.exception = 4
    s = await gw.wait_for("exceptions", lambda s: errors(s, "modbus_exception") >= 1)
    assert up(s) == 0
    logger.device.exception = None
    await gw.wait_for("recovery", lambda s: soc(s) is not None)


async def test_logger_down_then_back(logger: SolarmanLoggerSimulator, start: Start) -> None:
    gw = await start(**solarman(logger))
    await gw.wait_for("first reading", lambda s: soc(s) is not None)
    await logger.stop()
    s = await gw.wait_for("down", lambda s: up(s) == 0)
    assert errors(s, "connection") + errors(s, "disconnected") >= 1
    await logger.start()
    await gw.wait_for("recovery", lambda s: up(s) == 1)
