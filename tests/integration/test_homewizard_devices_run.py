"""Every HomeWizard device fixture through the real `gridwatch run` process against the device
simulators, field by field, over API v1 and v2: one process for the whole module, every fixture
a device of its own in one config (kWh meters, Energy Sockets, Watermeter, Plug-In Battery), the
kWh meters' and a P1 meter's battery groups (`/api/batteries`), and a socket's relay state.

The project's own fixtures (tests/fixtures/homewizard-devices) always run; the collected ones in
../shared/fixtures/homewizard-devices join them when that folder is present.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gridwatch.sim.homewizard.certs import generate_ca
from gridwatch.sim.homewizard.device import DeviceOptions, DeviceSimulator
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from tests.helpers import PROJECT_FIXTURES, Samples, load_json, shared_fixture_files, value
from tests.integration.run_harness import gridwatch_run_until
from tests.integration.test_homewizard_devices import (
    IGNORED,
    OWN,
    SHARED,
    P,
    api_and_product,
    expected,
)

pytestmark = pytest.mark.integration

B = "gridwatch_hw_batteries"
STATE_FIXTURE = "_state_all.json"  # the socket's GET /api/v1/state


@dataclass(frozen=True)
class Served:
    """One fixture as one device of the config."""

    path: Path
    name: str
    api: str
    product: str
    payload: dict[str, Any]
    batteries: dict[str, Any] | None  # the kWh meter's /api/batteries fixture beside it


def _served() -> list[Served]:
    found = []
    for index, path in enumerate(OWN + SHARED):
        api, product = api_and_product(path)
        sibling = path.with_name(path.name.replace("_measurement.json", "_batteries.json"))
        batteries = load_json(sibling) if api == "v2" and sibling.is_file() else None
        found.append(Served(path, f"d{index}", api, product, load_json(path), batteries))
    return found


SERVED = _served()
# A P1 meter's own /api/batteries: ours, and the collected one when ../shared is present.
P1_BATTERIES = [PROJECT_FIXTURES / "homewizard" / "batteries" / "p1_v2_api2.3.json"] + [
    p for p in shared_fixture_files("homewizard", "*_batteries_*.json")
]
SOCKET_STATES = [
    p.with_name(p.name.replace("_data.json", STATE_FIXTURE))
    for p in SHARED
    if p.name.endswith("HWE-SKT_data.json")
]


def _entry(name: str, sim: DeviceSimulator | HomeWizardSimulator, api: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "host": sim.host, "api": api, "interval": "0.5s"}
    if api == "v2":
        return entry | {
            "token": sim.token,
            "ca_file": str(sim.ca_file),
            "https_port": sim.https_port,
        }
    return entry | {"http_port": sim.http_port}


async def _run_all(tmp_path: Path) -> Samples:
    ca = generate_ca("gridwatch test CA")  # one CA for all: certificates are quick, CAs less so
    async with contextlib.AsyncExitStack() as stack:
        devices = []
        for index, s in enumerate(SERVED):
            options = DeviceOptions(
                product_type=s.product,
                serial=f"5c2faf{index:06x}",
                fixture=s.payload,
                fixture_api=s.api,
                batteries=s.batteries,
            )
            sim = await stack.enter_async_context(DeviceSimulator(options, ca=ca))
            devices.append(_entry(s.name, sim, s.api) | {"batteries": s.batteries is not None})
        for index, path in enumerate(SOCKET_STATES):
            state = load_json(path)
            options = DeviceOptions(product_type="HWE-SKT", serial=f"5c2fafee{index:04x}")
            sim = await stack.enter_async_context(DeviceSimulator(options, ca=ca))
            sim.power_on, sim.switch_lock = state["power_on"], state["switch_lock"]
            devices.append(_entry(f"state{index}", sim, "v1"))
        meters = []
        for index, path in enumerate(P1_BATTERIES):
            options = SimulatorOptions(serial=f"5c2fafaa{index:04x}", batteries=load_json(path))
            p1 = await stack.enter_async_context(HomeWizardSimulator(options, ca=ca))
            meters.append(_entry(f"p1_{index}", p1, "v2") | {"batteries": True, "push": False})

        def everything(s: Samples) -> bool:
            named = {dict(labels).get("device") for name, labels in s if name == f"{P}_info"}
            with_groups = {dict(labels).get("device") for name, labels in s if name == f"{B}_count"}
            groups = {d["name"] for d in devices + meters if d.get("batteries")}
            return {d["name"] for d in devices} <= named and groups <= with_groups

        return await gridwatch_run_until(
            tmp_path,
            {"homewizard_devices": devices, "meters": meters},
            everything,
            what="every device and battery group read by `gridwatch run`",
        )


@pytest.fixture(scope="module")
def exposition(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """One `gridwatch run` for the whole module (plain asyncio: its own loop, then done)."""
    return asyncio.run(_run_all(tmp_path_factory.mktemp("hw-run")))


@pytest.mark.parametrize("served", SERVED, ids=lambda s: s.path.name)
def test_every_field_of_the_fixture_is_exported(served: Served, exposition: Samples) -> None:
    s, name, payload = exposition, served.name, served.payload
    labels = next(dict(lb) for n, lb in s if n == f"{P}_info" and dict(lb)["device"] == name)
    assert (labels["product_type"], labels["api"]) == (served.product, served.api)
    checked = 0
    for field, raw in payload.items():
        if raw is None or any(part in field for part in IGNORED):
            continue
        if field == "active_power_l1_w" and "active_power_l2_w" not in payload:
            # a 1-phase device repeats its total as l1: the total is exported, not a phase
            assert value(s, f"{P}_phase_power_watts", device=name, phase="l1") is None
            continue
        want = expected(field, float(raw), served.api)
        assert want is not None, f"{served.path.name}: field {field!r} has no series"
        metric, extra, number = want
        got = value(s, metric, device=name, **extra)
        assert got == pytest.approx(number), f"{served.path.name}: {field} → {metric}{extra}"
        checked += 1
    assert checked >= 1
    if served.product == "HWE-SKT":  # the simulated relay is on
        assert value(s, f"{P}_switch_on", device=name) == 1


def battery_fields(s: Samples, device: str, payload: dict[str, Any]) -> None:
    """The battery group's series against its /api/batteries payload, field by field."""
    for field, metric in (
        ("battery_count", "count"),
        ("power_w", "power_watts"),
        ("target_power_w", "target_power_watts"),
        ("max_consumption_w", "max_consumption_watts"),
        ("max_production_w", "max_production_watts"),
    ):
        assert value(s, f"{B}_{metric}", device=device) == payload[field], (device, field)
    for action in ("charge", "discharge"):
        allowed = f"{action}_allowed" in payload["permissions"]
        assert value(s, f"{B}_permitted", device=device, action=action) == allowed
    # both permissions with mode zero is the library's (and the app's) "zero"
    assert value(s, f"{B}_mode", device=device, **{f"{B}_mode": payload["mode"]}) == 1
    to_full = payload.get("charge_to_full")
    got = value(s, f"{B}_charge_to_full", device=device)
    assert got == (None if to_full is None else float(to_full))


@pytest.mark.parametrize("served", [s for s in SERVED if s.batteries], ids=lambda s: s.path.name)
def test_every_battery_fixture_is_exported(served: Served, exposition: Samples) -> None:
    assert served.batteries is not None
    battery_fields(exposition, served.name, served.batteries)


@pytest.mark.parametrize("index", range(len(P1_BATTERIES)), ids=lambda i: P1_BATTERIES[i].name)
def test_the_p1_meters_battery_group_is_exported(index: int, exposition: Samples) -> None:
    battery_fields(exposition, f"p1_{index}", load_json(P1_BATTERIES[index]))


@pytest.mark.skipif(not SOCKET_STATES, reason="../shared/fixtures/homewizard-devices not present")
def test_the_socket_state_fixture_is_exported(exposition: Samples) -> None:
    for index, path in enumerate(SOCKET_STATES):
        state = load_json(path)
        device = f"state{index}"
        assert value(exposition, f"{P}_switch_on", device=device) == state["power_on"]
        assert value(exposition, f"{P}_switch_locked", device=device) == state["switch_lock"]
