"""HomeWizard devices (kWh meters, Energy Socket, Watermeter, Plug-In Battery) through the
exporter against the device simulator: the synthetic model of every product, a product type that
does not match the config, a kWh meter's battery group, the demo's devices. Every fixture field by
field through `gridwatch run` is test_homewizard_devices_run.py, which shares the tables here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gridwatch.app import Exporter
from gridwatch.config import parse_config
from gridwatch.core.clock import Clock
from gridwatch.demo import builtin_config
from gridwatch.sim.homewizard.demo import demo_part
from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.homewizard.device_format import PRODUCTS
from tests.helpers import PROJECT_FIXTURES, Samples, shared_fixture_files, value
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration

OWN = sorted((PROJECT_FIXTURES / "homewizard-devices").glob("*.json"))
SHARED = [
    p
    for p in shared_fixture_files("homewizard-devices", "*.json")
    if p.name.endswith(("_data.json", "_measurement.json"))
]
P = "gridwatch_hw_device"
PHASED = {
    "power": ("phase_power_watts", 1.0),
    "voltage": ("phase_voltage_volts", 1.0),
    "current": ("phase_current_amperes", 1.0),
    "apparent_power": ("phase_apparent_power_voltamperes", 1.0),
    "reactive_power": ("phase_reactive_power_voltamperes_reactive", 1.0),
}
TOTALS = {
    "power_w": ("power_watts", 1.0),
    "voltage_v": ("voltage_volts", 1.0),
    "current_a": ("current_amperes", 1.0),
    "apparent_power_va": ("apparent_power_voltamperes", 1.0),
    "reactive_power_var": ("reactive_power_voltamperes_reactive", 1.0),
    "power_factor": ("power_factor_ratio", 1.0),
    "frequency_hz": ("frequency_hertz", 1.0),
    "active_liter_lpm": ("water_flow_cubic_meters_per_second", 1 / 60000),
    "total_liter_m3": ("water_volume_cubic_meters_total", 1.0),
    "state_of_charge_pct": ("battery_state_of_charge_ratio", 0.01),
    "cycles": ("battery_cycles_total", 1.0),
    "wifi_strength": ("wifi_strength_ratio", 0.01),
}
# Sent but not exported: the SSID, v1's duplicate of the total as tariff 1, and the offset the
# docs say not to use.
IGNORED = ("wifi_ssid", "t1_kwh", "total_liter_offset_m3")


def api_and_product(path: Path) -> tuple[str, str]:
    parts = path.stem.split("_")
    api = "v2" if path.stem.endswith("_measurement") else "v1"
    return api, parts[-2]


def expected(field: str, raw: float, api: str) -> tuple[str, dict[str, str], float] | None:
    """The series (name, labels, value) a device field becomes, worked out from the field name."""
    name = field.removeprefix("active_") if api == "v1" and field != "active_liter_lpm" else field
    name = name.replace("total_power_", "energy_")
    if name in TOTALS:
        metric, scale = TOTALS[name]
        return f"{P}_{metric}", {}, raw * scale
    if name in ("energy_import_kwh", "energy_export_kwh"):
        return f"{P}_energy_joules_total", {"direction": name.split("_")[1]}, raw * 3.6e6
    for which in ("apparent", "reactive"):
        if name.startswith(f"{which}_current"):
            phase = name.removeprefix(f"{which}_current").removesuffix("_a").strip("_")
            labels = {"component": which, "phase": phase}
            return f"{P}_current_component_amperes", labels, raw
    for phase in ("l1", "l2", "l3"):
        if name.startswith("power_factor_"):
            return f"{P}_phase_power_factor_ratio", {"phase": name[-2:]}, raw
        for quantity, (metric, scale) in PHASED.items():
            for unit in ("w", "v", "a", "va", "var"):
                if name == f"{quantity}_{phase}_{unit}":
                    return f"{P}_{metric}", {"phase": phase}, raw * scale
    return None


StartDevice = Callable[..., Awaitable[tuple[DeviceSimulator, Running]]]


@pytest.fixture
async def start_device() -> AsyncIterator[StartDevice]:
    started: list[tuple[DeviceSimulator, Exporter]] = []

    async def start(
        options: DeviceOptions, api: str, **extra: Any
    ) -> tuple[DeviceSimulator, Running]:
        sim = DeviceSimulator(options)
        await sim.start()
        entry: dict[str, Any] = {"name": "dev", "host": sim.host, "api": api, "interval": "0.5s"}
        if api == "v2":
            entry |= {"token": sim.token, "ca_file": str(sim.ca_file), "https_port": sim.https_port}
        else:
            entry["http_port"] = sim.http_port
        config = parse_config(
            {
                "site": {"timezone": "Europe/Stockholm"},
                "exporter": {"listen_address": "127.0.0.1", "port": 0},
                "homewizard_devices": [entry | extra],
            }
        )
        exporter = Exporter(config)
        started.append((sim, exporter))
        await exporter.start()
        return sim, Running(exporter)

    yield start
    for sim, exporter in started:
        await exporter.stop()
        await sim.close()


def info(samples: Samples) -> dict[str, str] | None:
    found = [dict(labels) for name, labels in samples if name == f"{P}_info"]
    return found[0] if found else None


async def first_reading(gw: Running) -> Samples:
    return await gw.wait_for("first device reading", lambda s: info(s) is not None)


async def test_product_type_mismatch_is_a_clear_failure(start_device: StartDevice) -> None:
    _sim, gw = await start_device(
        DeviceOptions(product_type="HWE-SKT"), "v1", product_type="HWE-KWH3"
    )
    key = {"source": "homewizard_device", "device": "dev", "reason": "bad_model"}
    s = await gw.wait_for(
        "bad_model error", lambda s: (value(s, "gridwatch_source_errors_total", **key) or 0) >= 1
    )
    assert info(s) is None
    assert value(s, "gridwatch_source_up", source="homewizard_device", device="dev") == 0


async def test_kwh_meter_reports_the_battery_group_on_v2(start_device: StartDevice) -> None:
    _sim, gw = await start_device(DeviceOptions(product_type="HWE-KWH3"), "v2", batteries=True)
    s = await gw.wait_for(
        "battery group",
        lambda s: value(s, "gridwatch_hw_batteries_count", device="dev") is not None,
    )
    assert value(s, "gridwatch_hw_batteries_count", device="dev") == 1
    assert value(s, "gridwatch_hw_batteries_power_watts", device="dev") == -404
    assert (
        value(s, "gridwatch_hw_batteries_mode", device="dev", gridwatch_hw_batteries_mode="zero")
        == 1
    )
    assert value(s, "gridwatch_hw_batteries_permitted", device="dev", action="discharge") == 1


async def test_synthetic_devices_of_every_product_are_read(start_device: StartDevice) -> None:
    for product, (_name, _cert, has_v1, _has_v2) in sorted(PRODUCTS.items()):
        api = "v1" if has_v1 else "v2"
        _sim, gw = await start_device(
            DeviceOptions(product_type=product, serial="5c2faf00dd01"), api
        )
        s = await first_reading(gw)
        power = value(s, f"{P}_power_watts", device="dev")
        water = value(s, f"{P}_water_volume_cubic_meters_total", device="dev")
        assert (water if product == "HWE-WTR" else power) is not None, product


async def test_demo_shows_a_kwh_meter_and_a_socket(clock: Clock) -> None:
    config = builtin_config()
    async with contextlib.AsyncExitStack() as stack:
        config, lines = await demo_part(config, stack, clock)
        assert any("'ev'" in line for line in lines) and any("'heater'" in line for line in lines)
        config = config.model_copy(
            update={"exporter": config.exporter.model_copy(update={"port": 0})}
        )
        exporter = Exporter(config, clock=clock)
        stack.push_async_callback(exporter.stop)
        await exporter.start()
        gw = Running(exporter)

        def both(s: Samples) -> bool:
            found = {dict(labels).get("device") for name, labels in s if name == f"{P}_info"}
            home = value(s, "gridwatch_hw_batteries_count", device="home") is not None
            return {"ev", "heater"} <= found and home

        s = await gw.wait_for("the kWh meter, the socket and the P1's batteries", both)
        assert value(s, f"{P}_phase_power_watts", device="ev", phase="l1") is not None
        assert value(s, f"{P}_switch_on", device="heater") == 1
        assert value(s, "gridwatch_hw_batteries_count", device="ev") == 1
