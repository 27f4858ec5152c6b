"""The P1 meter's own ``GET /api/batteries`` (API v2) through the running exporter against the P1
simulator: the Plug-In Battery group's mode, permissions and power under the same families as a
kWh meter's, labelled with the meter's name; kept fresh while measurements come by push; a
firmware without the endpoint or a bad payload marks only the battery group down."""

from __future__ import annotations

import pytest

from gridwatch.sim.homewizard.peer import BATTERIES
from tests.helpers import Samples, value
from tests.integration.conftest import SimFactory, StartExporter, v2_meter

pytestmark = pytest.mark.integration

B = "gridwatch_hw_batteries"
BAT = {"source": "homewizard_batteries", "device": "home"}
METER = {"source": "homewizard", "device": "home"}


def mode_of(s: Samples) -> str | None:
    """The state the stateset marks as current."""
    on = [
        dict(labels)[f"{B}_mode"]
        for (name, labels), v in s.items()
        if name == f"{B}_mode" and v == 1 and dict(labels).get("device") == "home"
    ]
    return on[0] if len(on) == 1 else None


def bat_errors(s: Samples, reason: str) -> float:
    return value(s, "gridwatch_source_errors_total", **BAT, reason=reason) or 0


async def test_p1_meter_reports_the_battery_group_while_pushing(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(batteries=dict(BATTERIES), push_interval=0.2)
    gw = await start_exporter(v2_meter(sim, batteries=True, interval="0.3s"))
    s = await gw.wait_for("the battery group", lambda s: mode_of(s) is not None)
    assert mode_of(s) == "zero"
    assert value(s, f"{B}_permitted", device="home", action="charge") == 1
    assert value(s, f"{B}_permitted", device="home", action="discharge") == 1
    for metric, field in (
        ("count", "battery_count"),
        ("power_watts", "power_w"),
        ("target_power_watts", "target_power_w"),
        ("max_consumption_watts", "max_consumption_w"),
        ("max_production_watts", "max_production_w"),
    ):
        assert value(s, f"{B}_{metric}", device="home") == BATTERIES[field], metric
    assert value(s, "gridwatch_source_up", **BAT) == 1

    # The meter's measurements arrive by push; the battery group is still polled.
    await gw.wait_for(
        "push connected",
        lambda s: value(s, "gridwatch_source_push_connected", **METER) == 1,
    )
    sim.batteries = {**BATTERIES, "mode": "to_full", "permissions": ["charge_allowed"]}
    s = await gw.wait_for("the new mode", lambda s: mode_of(s) == "to_full")
    assert value(s, f"{B}_permitted", device="home", action="discharge") == 0
    assert value(s, "gridwatch_p1_power_watts", meter="home") is not None


async def test_firmware_without_batteries_leaves_the_meter_up(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(batteries=None)
    gw = await start_exporter(v2_meter(sim, batteries=True, interval="0.3s", push=False))
    s = await gw.wait_for("the 404 counted", lambda s: bat_errors(s, "http_error") >= 1)
    assert value(s, "gridwatch_source_up", **BAT) == 0
    s = await gw.wait_for("the meter up", lambda s: value(s, "gridwatch_source_up", **METER) == 1)
    assert not any(name.startswith(B) for name, _labels in s)


async def test_a_bad_batteries_payload_drops_the_group_not_the_meter(
    make_sim: SimFactory, start_exporter: StartExporter
) -> None:
    sim = await make_sim(batteries=dict(BATTERIES))
    gw = await start_exporter(v2_meter(sim, batteries=True, interval="0.3s", push=False))
    await gw.wait_for("the battery group", lambda s: mode_of(s) == "zero")
    sim.batteries = {**BATTERIES, "power_w": "404"}  # a string where a number belongs
    s = await gw.wait_for(
        "the group gone after its staleness window",
        lambda s: bat_errors(s, "payload") >= 1 and mode_of(s) is None,
    )
    assert value(s, f"{B}_power_watts", device="home") is None
    assert value(s, "gridwatch_source_up", **BAT) == 0
    assert value(s, "gridwatch_source_up", **METER) == 1
