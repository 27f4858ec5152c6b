"""The HV three-phase Deye (SG01HP3) through the real `gridwatch run` process.

One `gridwatch run` polls two simulated SG01HP3 units: one behind the Solarman V5 logger
simulator, one behind the pymodbus server (Modbus TCP gateway). The registers are checked raw
against PROTOCOLS-2.md §3.3/§3.5 (×0.1 V battery, ×10 W battery and PV power, + discharging,
32-bit grid power with its high word at 0x02B2) and the exposition in gridwatch's units and
signs; then the scenario drives them: the grid goes and comes back, the battery discharges and
the source goes down on a Modbus exception and recovers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gridwatch.config import parse_config
from gridwatch.core.source import SourceError
from gridwatch.sim.inverter.deye import DeyeDevice, deye_device
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from gridwatch.sim.polling import wait_until
from gridwatch.sources.inverter import INVERTERS
from gridwatch.sources.inverter.source import InverterSource
from tests.helpers import Samples, value
from tests.integration.inverter_harness import gridwatch_run
from tests.integration.run_harness import Metrics

pytestmark = pytest.mark.integration
NAMES = ("hv_v5", "hv_tcp")

# Physical values in gridwatch's signs (+ charging, + import) and the raw words a real SG01HP3
# sends for them, written out from §3.3/§3.5 rather than from the map.
EXACT: dict[str, float] = {
    "battery_voltage": 409.6,
    "battery_power": -2350.0,  # discharging
    "battery_current": -5.74,
    "battery_soc": 58,
    "pv1_power": 4230.0,
    "mains_power": 33_500.0,  # beyond a signed 16-bit register: the high word carries it
    "mains_power_l1": -1_200.0,  # export on one phase
    "output_power": 7_420.0,
    "bms_charge_voltage": 432.0,
}
RAW = {
    0x024B: 4096,  # 409.6 V at ×0.1 (an LV map's ×0.01 would read 40.96 V)
    0x024C: 58,
    0x024E: 235,  # + discharging, ×10 W
    0x024F: 574,  # + discharging, ×0.01 A
    0x02A0: 423,  # ×10 W
    0x0271: 33_500,  # low word…
    0x02B2: 0,  # …and high word of the total
    0x026E: 0x10000 - 1_200,  # −1 200 W: low word of two's complement…
    0x02AF: 0xFFFF,  # …and its high word
    0x00D2: 4320,
}


async def until(metrics: Metrics, what: str, check: Callable[[Samples], bool]) -> Samples:
    seen: Samples = {}

    async def holds() -> bool:
        nonlocal seen
        seen = await metrics()
        return bool(seen) and check(seen)

    await wait_until(holds, what=what, timeout=30)
    return seen


def inv(s: Samples, device: str, name: str, **labels: str) -> float | None:
    return value(s, f"gridwatch_inverter_{name}", inverter=device, **labels)


def up(s: Samples, device: str) -> float | None:
    return value(s, "gridwatch_source_up", source="inverter", device=device)


async def test_hv_three_phase_through_gridwatch_run(tmp_path: Path) -> None:
    devices: list[DeyeDevice] = [deye_device("deye-3p-hv"), deye_device("deye-3p-hv")]
    for device in devices:
        device.overrides = dict(EXACT)
        words = device.registers()
        assert {a: words[a] for a in RAW} == RAW  # the simulator speaks the §3 encoding
    common = {"model": "deye_sg01hp3", "interval": "0.3s", "timeout": "0.5s", "retries": 0}
    async with contextlib.AsyncExitStack() as stack:
        logger = await stack.enter_async_context(SolarmanLoggerSimulator(devices[0]))
        server = await stack.enter_async_context(ModbusInverterServer(devices[1], framing="tcp"))
        entries = [
            {"name": NAMES[0], "transport": "solarman", "host": "127.0.0.1", "port": logger.port,
             "logger_serial": logger.logger_serial, **common},
            {"name": NAMES[1], "transport": "tcp", "host": "127.0.0.1", "port": server.port,
             **common},
        ]  # fmt: skip
        metrics = await stack.enter_async_context(
            gridwatch_run(tmp_path, entries, grid={"consecutive_polls": 2})
        )

        s = await until(metrics, "both HV units up", lambda s: all(up(s, n) == 1 for n in NAMES))
        for name in NAMES:
            assert inv(s, name, "battery_voltage_volts") == pytest.approx(409.6)
            assert inv(s, name, "battery_power_watts") == pytest.approx(-2350)  # discharging
            assert inv(s, name, "battery_current_amperes") == pytest.approx(-5.74)
            assert inv(s, name, "battery_soc_ratio") == pytest.approx(0.58)
            assert inv(s, name, "pv_power_watts", string="1") == pytest.approx(4230)
            assert inv(s, name, "mains_power_watts") == pytest.approx(33_500)
            assert inv(s, name, "mains_phase_power_watts", phase="l1") == pytest.approx(-1200)
            assert inv(s, name, "output_power_watts") == pytest.approx(7420)
            assert inv(s, name, "rated_power_watts") == pytest.approx(12_000)
            got = inv(s, name, "setting", setting="bms_charge_voltage")
            assert got == pytest.approx(432.0)
            assert inv(s, name, "grid_connected") == 1
            info = [labels for n, labels in s if n == "gridwatch_inverter_info"]
            assert any(("inverter", name) in i and ("model", "deye_sg01hp3") in i for i in info)

        # The scenario takes over: an HV pack's voltage, whatever the time of day.
        for device in devices:
            device.overrides = {}
        s = await until(
            metrics,
            "scenario values",
            lambda s: all(inv(s, n, "battery_soc_ratio") != 0.58 for n in NAMES),
        )
        for name in NAMES:
            volts = inv(s, name, "battery_voltage_volts")
            assert volts is not None and 380 < volts < 450, volts

        await until(metrics, "grid up", lambda s: value(s, "gridwatch_grid_up") == 1)
        for device in devices:
            device.grid_override = False
        s = await until(metrics, "grid down", lambda s: value(s, "gridwatch_grid_up") == 0)
        await until(
            metrics, "relays open", lambda s: all(inv(s, n, "grid_connected") == 0 for n in NAMES)
        )
        for device in devices:
            device.grid_override = True
        await until(metrics, "grid back", lambda s: value(s, "gridwatch_grid_up") == 1)

        devices[1].exception = 4  # the unit behind the gateway fails
        s = await until(
            metrics,
            "modbus exception",
            lambda s: (
                value(s, "gridwatch_source_errors_total", source="inverter", device=NAMES[1],
                      reason="modbus_exception") or 0
            ) >= 1,
        )  # fmt: skip
        s = await until(metrics, "source down", lambda s: up(s, NAMES[1]) == 0)
        s = await until(
            metrics, "stale values gone", lambda s: inv(s, NAMES[1], "battery_soc_ratio") is None
        )
        assert up(s, NAMES[0]) == 1  # the other unit carries on
        devices[1].exception = None
        await until(metrics, "recovery", lambda s: up(s, NAMES[1]) == 1)


@pytest.mark.parametrize(
    ("kind", "configured", "fits"),
    [("deye-3p-hv", "deye_sg0xlp3", "deye_sg01hp3"), ("deye-3p", "deye_sg01hp3", "deye_sg0xlp3")],
)
async def test_an_lv_map_on_an_hv_unit_is_refused_not_read_tenfold_off(
    kind: str, configured: str, fits: str
) -> None:
    """The device-type register tells LV (5) from HV (6): the wrong map is bad_model."""
    device = deye_device(kind)
    async with ModbusInverterServer(device, framing="tcp") as server:
        config = parse_config(
            {"inverters": [{"name": "deye", "transport": "tcp", "host": "127.0.0.1",
                            "port": server.port, "model": configured, "retries": 0}]}
        )  # fmt: skip
        source = InverterSource(INVERTERS.of(config)[0])
        try:
            with pytest.raises(SourceError) as err:
                await source.poll()
        finally:
            await source.transport.close()
    assert err.value.reason == "bad_model"
    assert f"use model: {fits}" in err.value.message
