"""The Deye probes for scan-inverter and the Deye demo part, against the simulators."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.sim.inverter.deye import deye_device
from gridwatch.sim.inverter.deye_demo import DEMO_CHOICES, demo_part_for
from gridwatch.sim.inverter.modbus import ModbusInverterServer
from gridwatch.sim.inverter.solarman import SolarmanLoggerSimulator
from gridwatch.sources.inverter.deye_probe import probe_deye_modbus, probe_solarman
from tests.helpers import value
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration


async def test_solarman_probe_finds_the_serial_and_the_model() -> None:
    async with SolarmanLoggerSimulator(deye_device("deye-3p")) as sim:
        assert sim.port is not None and sim.udp_port is not None
        found = await probe_solarman(
            "127.0.0.1", sim.port, timeout=1.0, discovery_port=sim.udp_port
        )
        assert found.problem is None, found.problem
        assert found.model == "deye_sg0xlp3" and found.serial == "2306241234"
        assert f"logger_serial: {sim.logger_serial}" in found.snippet
        assert "transport: solarman" in found.snippet
        assert found.snippet.startswith("  - name: deye")
        sim.stub_payload = True  # the stick answers, the inverter does not
        found = await probe_solarman("127.0.0.1", sim.port, sim.logger_serial, timeout=1.0)
        assert found.model is None and found.problem is not None
        assert found.problem.startswith("no_reply")


async def test_modbus_probe_tells_single_from_lv_and_hv_three_phase() -> None:
    kinds = (
        ("deye-1p", "deye_sg0xlp1", "single-phase"),
        ("deye-3p", "deye_sg0xlp3", "LV three-phase"),
        ("deye-3p-hv", "deye_sg01hp3", "HV three-phase"),
    )
    for kind, model, what in kinds:
        async with ModbusInverterServer(deye_device(kind)) as server:
            assert server.port is not None
            found = await probe_deye_modbus("127.0.0.1", server.port, timeout=1.0)
        assert found.model == model, found
        assert what in found.answered
        assert "transport: tcp" in found.snippet and f"model: {model}" in found.snippet


async def test_probe_of_nothing_says_why() -> None:
    found = await probe_deye_modbus("127.0.0.1", 1, timeout=0.5)
    assert found.model is None and found.problem is not None
    assert found.problem.startswith("connection")


@pytest.mark.parametrize("kind", sorted(DEMO_CHOICES))
async def test_demo_part_runs_the_exporter_on_a_simulated_deye(tmp_path: Path, kind: str) -> None:
    config = parse_config(
        {
            "site": {"data_dir": str(tmp_path)},
            "exporter": {"listen_address": "127.0.0.1", "port": 0},
            "inverters": [{"name": "inv", "transport": "tcp", "host": "x", "interval": "0.3s"}],
        }
    )
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await demo_part_for(kind)(config, stack, lambda: 1.7e9)
        assert "Solarman V5" in lines[0]
        exporter = Exporter(config)
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        gw = Running(exporter)
        s = await gw.wait_for(
            "values",
            lambda s: value(s, "gridwatch_inverter_battery_soc_ratio", inverter="inv") is not None,
        )
        phases = value(s, "gridwatch_inverter_output_phase_power_watts", inverter="inv", phase="l1")
        assert (phases is not None) == kind.startswith("deye-3p")
        volts = value(s, "gridwatch_inverter_battery_voltage_volts", inverter="inv")
        assert volts is not None
        assert (volts > 300) == (kind == "deye-3p-hv"), volts  # an HV pack, at the right scale
