"""Tuya local protocol against tuyamock devices on loopback (real tinytuya framing and crypto)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from gridwatch.receiver.model import Alert, AlertStatus, PlugResult
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.receiver.tuya.config import ActionRule, TuyaConfig
from gridwatch.sim.tuya.local import TuyaLocalSim, closed_port

pytestmark = pytest.mark.integration

# Short socket timeouts keep the failure cases brief; the outcome, not the time, is asserted.
FAST = {"connect_timeout": "0.5s", "connect_retries": 1, "retry_delay": 0, "stagger": "0.05s"}
GRID_DOWN = ActionRule.model_validate({"match": {"alertname": "GridDown"}, "groups": ["heavy"]})


@pytest.fixture
def sim() -> Iterator[TuyaLocalSim]:
    plugs = TuyaLocalSim()
    yield plugs
    plugs.stop()


def tuya(sim: TuyaLocalSim, **extra: Any) -> TuyaConfig:
    return TuyaConfig.model_validate({"plugs": sim.configs()} | FAST | extra)


def alert(status: AlertStatus) -> Alert:
    return Alert(
        status=status,
        labels={"alertname": "GridDown"},
        annotations={},
        starts_at=datetime(2025, 11, 3, 18, 0, tzinfo=UTC),
        ends_at=None if status == "firing" else datetime(2025, 11, 3, 19, 0, tzinfo=UTC),
        fingerprint="f00d",
    )


@pytest.mark.parametrize("version", ["3.3", "3.4", "3.5"])
async def test_switch_off_and_on_and_read_state(sim: TuyaLocalSim, version: str) -> None:
    boiler = sim.add("boiler", version=version, on=True, groups=["heavy"])
    sim.start()
    actions = TuyaActions(tuya(sim), [GRID_DOWN])
    try:
        off = await actions.switch("boiler", False)
        assert off == PlugResult("boiler", False, "ok", was_on=True)
        # The device itself is off, and only its switch changed.
        assert boiler.dps == {"1": False, "9": 0, "19": 0}
        (state,) = await actions.states()
        assert (state.plug, state.group, state.on, state.outcome) == (
            "boiler",
            "heavy",
            False,
            "ok",
        )

        assert await actions.switch("boiler", True) == PlugResult("boiler", True, "ok")
        assert boiler.on is True
        assert (await actions.states())[0].on is True
    finally:
        await actions.close()


async def test_switching_to_the_state_it_already_has_is_ok(sim: TuyaLocalSim) -> None:
    lamp = sim.add("lamp", version="3.4", on=False, groups=["heavy"])
    sim.start()
    actions = TuyaActions(tuya(sim), [])
    assert (await actions.switch("lamp", False)).outcome == "ok"
    assert lamp.on is False


async def test_a_plug_with_its_switch_on_another_dp(sim: TuyaLocalSim) -> None:
    socket2 = sim.add("socket2", version="3.5", on=True, switch_dp=2)
    sim.start()
    actions = TuyaActions(tuya(sim), [])
    assert (await actions.switch("socket2", False)).outcome == "ok"
    assert socket2.dps == {"2": False, "9": 0, "19": 0}


async def test_an_unreachable_plug_is_offline(
    sim: TuyaLocalSim, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add("boiler", version="3.4", groups=["heavy"])
    config = sim.configs()[0] | {"port": closed_port()}
    actions = TuyaActions(TuyaConfig.model_validate({"plugs": [config]} | FAST), [])
    with caplog.at_level(logging.DEBUG):
        result = await actions.switch("boiler", False)
    assert result.outcome == "offline"
    assert "connection refused by 127.0.0.1:" in result.detail
    assert config["local_key"] not in caplog.text  # tinytuya's repr of a device shows the key
    (state,) = await actions.states()
    assert (state.on, state.outcome) == (None, "offline")


@pytest.mark.parametrize("version", ["3.3", "3.4", "3.5"])
async def test_a_wrong_local_key_is_an_error_that_says_so(sim: TuyaLocalSim, version: str) -> None:
    plug = sim.add("boiler", version=version, on=True)
    sim.start()
    wrong = "Zz9Yy8Xx7Ww6Vv5U"
    config = plug.config(local_key=wrong)
    actions = TuyaActions(TuyaConfig.model_validate({"plugs": [config]} | FAST), [])
    result = await actions.switch("boiler", False)
    assert result.outcome == "error"
    assert "check local_key and version" in result.detail
    assert wrong not in result.detail
    assert plug.on is True  # untouched


async def test_a_device_that_never_answers_is_cut_off_by_the_overall_timeout(
    sim: TuyaLocalSim,
) -> None:
    # The device accepts the connection but takes longer than the whole-call limit to reply.
    sim.add("slow", version="3.3", on=True, response_delay=1.5)
    sim.start()
    config = TuyaConfig.model_validate(
        {"plugs": sim.configs()} | FAST | {"connect_timeout": "5s", "timeout": "0.3s"}
    )
    result = await TuyaActions(config, []).switch("slow", False)
    assert result.outcome == "offline"
    assert "no answer within 0.3 s" in result.detail


async def test_grid_down_sheds_the_group_and_restores_it_one_by_one(sim: TuyaLocalSim) -> None:
    plugs = [
        sim.add(name, version=v, on=True, groups=["heavy"])
        for name, v in [("boiler", "3.3"), ("heater", "3.4"), ("washer", "3.5")]
    ]
    fridge = sim.add("fridge", version="3.4", on=True, groups=["essential"])
    sim.start()
    actions = TuyaActions(tuya(sim), [GRID_DOWN])

    # What the receiver's worker does: the plan, in order.
    shed = actions.plan(alert("firing"))
    assert shed == [("boiler", False), ("heater", False), ("washer", False)]
    results = [await actions.switch(name, on) for name, on in shed]
    assert [r.outcome for r in results] == ["ok", "ok", "ok"]
    assert [p.on for p in plugs] == [False, False, False]
    assert fridge.on is True

    seen = []
    for name, on in actions.plan(alert("resolved")):
        assert (await actions.switch(name, on)).outcome == "ok"
        seen.append([p.on for p in plugs])
        await asyncio.sleep(actions.stagger_seconds)
    # Each step turned exactly one more plug back on, in config order.
    assert seen == [[True, False, False], [True, True, False], [True, True, True]]


async def test_one_offline_plug_does_not_stop_the_others(sim: TuyaLocalSim) -> None:
    boiler = sim.add("boiler", version="3.4", on=True, groups=["heavy"])
    sim.add("heater", version="3.4", on=True, groups=["heavy"])
    washer = sim.add("washer", version="3.5", on=True, groups=["heavy"])
    sim.start()
    sim.take_offline("heater")
    actions = TuyaActions(tuya(sim), [GRID_DOWN])
    results = [await actions.switch(n, on) for n, on in actions.plan(alert("firing"))]
    assert [(r.plug, r.outcome) for r in results] == [
        ("boiler", "ok"),
        ("heater", "offline"),
        ("washer", "ok"),
    ]
    assert (boiler.on, washer.on) == (False, False)
    states = {s.plug: (s.on, s.outcome) for s in await actions.states()}
    assert states == {
        "boiler": (False, "ok"),
        "heater": (None, "offline"),
        "washer": (False, "ok"),
    }


@pytest.mark.parametrize("version", ["3.3", "3.4"])
async def test_a_slow_plug_that_switched_is_reported_switched(
    sim: TuyaLocalSim, version: str
) -> None:
    """Issue 15, fault 6: a plug answering after 3 s was "error … check local_key and
    version" (and "not reachable" in /plugs) although it did switch. Default timeouts."""
    slow = sim.add("boiler", version=version, on=True, groups=["heavy"], response_delay=3.0)
    sim.start()
    actions = TuyaActions(TuyaConfig.model_validate({"plugs": sim.configs()}), [GRID_DOWN])
    try:
        result = await actions.switch("boiler", False)
        assert (result.outcome, result.was_on) == ("ok", True), result.detail
        assert slow.on is False
        (state,) = await actions.states()
        assert (state.on, state.outcome) == (False, "ok"), state.detail
    finally:
        await actions.close()


async def test_switching_off_tells_what_the_plug_was_before(sim: TuyaLocalSim) -> None:
    """Issue 15, fault 6: so that a restore can leave a plug off that was off before."""
    sim.add("lamp", version="3.4", on=False, groups=["heavy"])
    sim.add("boiler", version="3.5", on=True, groups=["heavy"])
    sim.start()
    actions = TuyaActions(tuya(sim), [GRID_DOWN])
    try:
        assert (await actions.switch("lamp", False)).was_on is False
        assert (await actions.switch("boiler", False)).was_on is True
        assert (await actions.switch("boiler", True)).was_on is None  # only asked when shedding
    finally:
        await actions.close()
