"""A host without D-Bus: the batteries report `no_bluetooth`, everything else keeps working.

Needs no dbus-daemon: the system bus address points at a socket that does not exist, exactly
what a container without /run/dbus sees.
"""

from __future__ import annotations

import logging

import pytest

from tests.fixtures.jkbms import harness
from tests.fixtures.jkbms.harness import ADDRESSES, StartBatteries, errors, up
from tests.helpers import value
from tests.integration.conftest import FULL_V1, SimFactory, v1_meter

pytestmark = pytest.mark.integration
gw = harness.gw  # fixture


async def test_no_dbus_is_no_bluetooth_and_the_meter_still_works(
    gw: StartBatteries,
    make_sim: SimFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gridwatch")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-socket")
    sim = await make_sim(fixture=FULL_V1)
    running = await gw(
        meters=[v1_meter(sim, interval="0.5s")],
        devices=[
            {"name": "house", "address": ADDRESSES[0]},
            {"name": "garage", "address": ADDRESSES[1]},
        ],
    )

    s = await running.wait_for(
        "both packs failed twice, meter read",
        lambda s: (
            errors(s, "house", "no_bluetooth") >= 2
            and errors(s, "garage", "no_bluetooth") >= 2
            and value(s, "gridwatch_p1_power_watts", meter="home") is not None
        ),
    )
    assert up(s, "house") == 0 and up(s, "garage") == 0
    assert value(s, "gridwatch_source_up", source="homewizard", device="home") == 1
    assert value(s, "gridwatch_p1_power_watts", meter="home") == -1250
    assert not [k for k in s if k[0].startswith("gridwatch_battery_")]
    down = [r.getMessage() for r in caplog.records if "bms/house is down" in r.getMessage()]
    assert len(down) == 1 and "D-Bus" in down[0]
