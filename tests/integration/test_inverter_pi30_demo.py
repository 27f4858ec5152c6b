"""`gridwatch demo --inverter pi30|pi18|pi17`: the demo's inverter becomes a simulated Voltronic
unit."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from gridwatch.app import Exporter
from gridwatch.demo import builtin_config
from gridwatch.sim.inverter import demo as inverter_demo
from gridwatch.sim.polling import wait_until
from gridwatch.sources.inverter import INVERTERS
from tests.helpers import parse_exposition, value
from tests.integration.conftest import Running, only_inverters
from tests.integration.test_cli import fetch, free_port, running_demo

pytestmark = [pytest.mark.integration, pytest.mark.clock]


@pytest.mark.parametrize(
    ("family", "transport"), [("pi30", "eybond"), ("pi18", "serial"), ("pi17", "tcp")]
)
async def test_demo_part_simulates_the_chosen_family(
    tmp_path: Path, family: str, transport: str
) -> None:
    base = inverter_demo.with_family(builtin_config(), family)
    if transport == "serial":  # as a user's demo config with an RS232 cable would say
        serial = [
            i.model_copy(update={"transport": "serial", "host": None, "device": "/dev/ttyUSB0"})
            for i in INVERTERS.of(base)
        ]
        base = base.model_copy(update={INVERTERS.key: serial})
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await inverter_demo.demo_part(base, stack)
        assert any(f"simulated {family.upper()} unit" in line for line in lines), lines
        exporter = Exporter(only_inverters(config, tmp_path))
        await exporter.start()
        stack.push_async_callback(exporter.stop)
        s = await Running(exporter).wait_for(
            "demo inverter values",
            lambda s: value(s, "gridwatch_inverter_battery_soc_ratio", inverter="smg") is not None,
        )
        firmware = {"pi30": "00072.70", "pi18": "07601", "pi17": "00001.01"}[family]
        info = {"inverter": "smg", "model": family, "serial_number": "9293333000000"}
        assert value(s, "gridwatch_inverter_info", **info, firmware=firmware) == 1


async def test_gridwatch_demo_with_inverter_pi30() -> None:
    port = free_port()
    async with running_demo("--no-prometheus", "--port", str(port), "--inverter", "pi30") as out:
        assert "simulated PI30 unit" in out

        async def two_strings() -> bool:
            text = await fetch(f"http://127.0.0.1:{port}/metrics")
            if text is None:
                return False
            s = parse_exposition(text)
            key = {"inverter": "smg", "string": "2"}
            return value(s, "gridwatch_inverter_pv_voltage_volts", **key) is not None

        await wait_until(two_strings, what="PV string 2 of the simulated PI30 MAX", timeout=30)


@pytest.mark.parametrize("family", ["deye-3p", "deye-3p-hv"])
async def test_gridwatch_demo_with_a_deye_behind_its_stick(family: str) -> None:
    port = free_port()
    args = ("--no-prometheus", "--port", str(port), "--inverter", family)
    async with running_demo(*args) as out:
        assert "behind a Solarman V5 logger" in out
        volts: list[float | None] = [None]

        async def per_phase() -> bool:
            text = await fetch(f"http://127.0.0.1:{port}/metrics")
            if text is None:
                return False
            s = parse_exposition(text)
            key = {"inverter": "smg", "phase": "l3"}
            volts[0] = value(s, "gridwatch_inverter_battery_voltage_volts", inverter="smg")
            return value(s, "gridwatch_inverter_output_phase_power_watts", **key) is not None

        await wait_until(per_phase, what="per-phase output of the simulated Deye", timeout=30)
        assert volts[0] is not None
        # An HV pack reads some 400 V, an LV one some 50 V: each map's scale, end to end.
        assert (volts[0] > 300) == (family == "deye-3p-hv"), volts[0]
        if family == "deye-3p-hv":
            assert "deye_sg01hp3" in out
