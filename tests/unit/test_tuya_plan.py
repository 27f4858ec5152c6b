"""Which plugs an alert switches: rules over labels, groups in config order, restore = opposite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gridwatch.receiver.model import Alert, AlertStatus
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.receiver.tuya.config import ActionRule, TuyaConfig


def plug(name: str, *groups: str) -> dict[str, Any]:
    return {
        "name": name,
        "backend": "local",
        "groups": list(groups),
        "device_id": f"bf{name}0000",
        "address": "127.0.0.1",
        "local_key": "Kq7pZ2mW9xR4vT6y",
    }


TUYA = TuyaConfig.model_validate(
    {
        "stagger": "4s",
        "plugs": [
            plug("boiler", "heavy"),
            plug("heater", "heavy", "comfort"),
            plug("washer", "heavy"),
            plug("lamp", "comfort"),
            plug("fridge", "essential"),
        ],
    }
)


def alert(status: AlertStatus = "firing", **labels: str) -> Alert:
    return Alert(
        status=status,
        labels={"alertname": "GridDown", "severity": "critical"} | labels,
        annotations={},
        starts_at=datetime(2025, 11, 3, 18, 0, tzinfo=UTC),
        ends_at=None,
        fingerprint="f00d",
    )


def actions(*rules: dict[str, Any]) -> TuyaActions:
    return TuyaActions(TUYA, [ActionRule.model_validate(r) for r in rules])


GRID = {"match": {"alertname": "GridDown"}, "groups": ["heavy"]}


def test_grid_down_switches_the_group_off_and_its_resolution_on_in_config_order() -> None:
    shed = actions(GRID)
    assert shed.plan(alert("firing")) == [("boiler", False), ("heater", False), ("washer", False)]
    # Restored one by one in the order the user listed them; the worker pauses between them.
    assert shed.plan(alert("resolved")) == [("boiler", True), ("heater", True), ("washer", True)]
    assert shed.stagger_seconds == 4.0


def test_alerts_that_match_no_rule_switch_nothing() -> None:
    shed = actions(GRID)
    assert shed.plan(alert(alertname="BatteryLow")) == []
    assert actions().plan(alert()) == []


def test_every_matcher_must_hold() -> None:
    shed = actions(GRID | {"match": {"alertname": "GridDown", "site": "dacha"}})
    assert shed.plan(alert()) == []
    assert shed.plan(alert(site="dacha"))[0] == ("boiler", False)


def test_regex_matchers_match_the_whole_value() -> None:
    shed = actions({"match_re": {"alertname": "Phase(Near|Over)Fuse"}, "plugs": ["washer"]})
    assert shed.plan(alert(alertname="PhaseOverFuse")) == [("washer", False)]
    assert shed.plan(alert(alertname="PhaseOverFuseSoon")) == []
    assert shed.plan(alert(alertname="XPhaseNearFuse")) == []
    # A label the alert lacks is the empty string, as in Alertmanager.
    optional = actions({"match_re": {"phase": "l1|"}, "plugs": ["washer"]})
    assert optional.plan(alert()) == [("washer", False)]


def test_a_plug_in_two_matching_rules_is_switched_once_as_the_first_rule_says() -> None:
    shed = actions(
        GRID, {"match": {"alertname": "GridDown"}, "groups": ["comfort"], "firing": "on"}
    )
    assert shed.plan(alert()) == [
        ("boiler", False),
        ("heater", False),
        ("washer", False),
        ("lamp", True),
    ]


@pytest.mark.parametrize(
    ("firing", "resolved", "on_firing", "on_resolved"),
    [
        ("off", "restore", False, True),
        ("on", "restore", True, False),  # e.g. a generator-room fan on during an outage
        ("off", None, False, None),  # stay off until switched by hand
        (None, "on", None, True),
        ("off", "off", False, False),
    ],
)
def test_firing_and_resolved_actions(
    firing: str | None, resolved: str | None, on_firing: bool | None, on_resolved: bool | None
) -> None:
    shed = actions(
        {"match": {"alertname": "GridDown"}, "plugs": ["fridge"]}
        | {
            "firing": firing,
            "resolved": resolved,
        }
    )
    assert shed.plan(alert("firing")) == ([] if on_firing is None else [("fridge", on_firing)])
    expected = [] if on_resolved is None else [("fridge", on_resolved)]
    assert shed.plan(alert("resolved")) == expected


def test_named_plugs_follow_the_groups() -> None:
    shed = actions({"match": {"alertname": "GridDown"}, "groups": ["comfort"], "plugs": ["boiler"]})
    assert [name for name, _ in shed.plan(alert())] == ["heater", "lamp", "boiler"]


def test_rules_naming_unknown_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown group 'heavvy'"):
        actions({"match": {"alertname": "GridDown"}, "groups": ["heavvy"]})


async def test_switching_a_plug_that_is_not_configured_is_an_error_result() -> None:
    result = await actions(GRID).switch("kettle", False)
    assert (result.plug, result.on, result.outcome) == ("kettle", False, "error")
    assert "no such plug" in result.detail
