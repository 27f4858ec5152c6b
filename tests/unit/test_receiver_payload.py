"""Alertmanager v4 payloads: the real captures parse, junk is refused naming the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridwatch.receiver.payload import PayloadError, encode_notification, parse_notification
from gridwatch.receiver.telegram.markup import MAX_MESSAGE, utf16_len
from gridwatch.receiver.telegram.render import messages
from gridwatch.receiver.telegram.templates import Catalog
from gridwatch.sim.telegram.bot_api import check_html
from tests.helpers import load_json, shared_fixture_files, shared_or_skip
from tests.receiver_fakes import AM_FIXTURES, am_payload

PAYLOADS = sorted(p for p in AM_FIXTURES.glob("*.json") if not p.name.endswith(".headers.json"))
SHARED_PAYLOADS = [
    p
    for p in shared_fixture_files("alertmanager", "am0.25_webhook_v4_*.json")
    if not p.name.endswith(".headers.json")
]


def test_firing_capture_parses() -> None:
    n = parse_notification(am_payload("am0.25_webhook_v4_firing_truncated.json"))
    assert (n.receiver, n.status, n.truncated_alerts) == ("hook", "firing", 1)
    assert n.group_key == '{}/{severity="critical"}:{alertname="BatteryLow"}'
    assert n.group_labels == {"alertname": "BatteryLow"}
    assert n.common_labels == {"alertname": "BatteryLow", "severity": "critical"}
    assert n.common_annotations == {"description": "SoC < 20%"}
    assert n.external_url == "http://127.0.0.1:19093"
    first, second = n.alerts
    assert first.name == "BatteryLow" and first.labels["instance"] == "inv0"
    assert first.annotations["summary"] == "Battery SoC low on inv0"
    assert first.starts_at == datetime(2026, 11, 22, 5, 39, 34, 244648, tzinfo=UTC)
    assert first.ends_at is None  # Alertmanager's 0001-01-01 while firing
    assert first.fingerprint == "9475422486c4fe43"
    assert first.generator_url == "http://127.0.0.1:9090/graph?g0.expr=soc"
    assert second.fingerprint == "eb65eb2625b2d2b6"


def test_resolved_capture_keeps_its_end_time() -> None:
    n = parse_notification(am_payload("am0.25_webhook_v4_resolved.json"))
    assert n.status == "resolved"
    assert [a.status for a in n.alerts] == ["resolved", "resolved"]
    assert n.alerts[0].ends_at == datetime(2026, 11, 22, 5, 39, 42, 244648, tzinfo=UTC)
    # Same alert, other status: a different dedup key, so the resolution is not a duplicate.
    firing = parse_notification(am_payload("am0.25_webhook_v4_firing_truncated.json"))
    assert n.alerts[0].dedup_key != firing.alerts[0].dedup_key
    assert n.alerts[0].fingerprint == firing.alerts[0].fingerprint


@pytest.mark.parametrize(
    "path", shared_or_skip(SHARED_PAYLOADS), ids=lambda p: getattr(p, "name", "skip")
)
def test_every_shared_capture_parses_and_round_trips(path: Path) -> None:
    n = parse_notification(load_json(path))
    assert n.alerts and all(a.fingerprint for a in n.alerts)
    assert parse_notification(json.loads(json.dumps(encode_notification(n)))) == n


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
def test_project_captures_round_trip_through_the_outbox_shape(path: Path) -> None:
    n = parse_notification(load_json(path))
    assert parse_notification(json.loads(json.dumps(encode_notification(n)))) == n


def test_unknown_fields_are_tolerated_and_optional_ones_may_be_missing() -> None:
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["notification_reason"] = "new"  # newer Alertmanager releases
    data["alerts"][0]["silencedBy"] = []
    for key in ("groupLabels", "commonAnnotations", "externalURL", "truncatedAlerts"):
        del data[key]
    del data["alerts"][0]["annotations"]
    n = parse_notification(data)
    assert n.alerts[0].name == "GridDown" and n.alerts[0].annotations == {}
    assert n.group_labels == {} and n.truncated_alerts == 0


def test_time_zones_and_nanoseconds_as_go_writes_them() -> None:
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["alerts"][0]["startsAt"] = "2026-11-22T07:39:34.244648123+02:00"
    n = parse_notification(data)
    assert n.alerts[0].starts_at == datetime(2026, 11, 22, 5, 39, 34, 244648, tzinfo=UTC)


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(am_payload("am0.25_webhook_v4_firing_truncated.json"))
    alert = data["alerts"][0]
    match change:
        case "version":
            data["version"] = "3"
        case "no_version":
            del data["version"]
        case "no_alerts":
            data["alerts"] = []
        case "alerts_not_list":
            data["alerts"] = {"a": 1}
        case "alert_not_object":
            data["alerts"][0] = "GridDown"
        case "status":
            data["status"] = "pending"
        case "alert_status":
            alert["status"] = "FIRING"
        case "labels_not_strings":
            alert["labels"] = {"alertname": 1}
        case "no_labels":
            del alert["labels"]
        case "no_fingerprint":
            del alert["fingerprint"]
        case "fingerprint":
            alert["fingerprint"] = "<script>"
        case "starts_at":
            alert["startsAt"] = "yesterday"
        case "naive_time":
            alert["startsAt"] = "2026-11-22T05:39:34"
        case "ends_at_type":
            alert["endsAt"] = 0
        case "truncated":
            data["truncatedAlerts"] = -1
        case "receiver":
            data["receiver"] = None
    return data


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ("version", "version"),
        ("no_version", "version"),
        ("no_alerts", "alerts"),
        ("alerts_not_list", "alerts"),
        ("alert_not_object", "alerts[0]"),
        ("status", "status"),
        ("alert_status", "alerts[0].status"),
        ("labels_not_strings", "alerts[0].labels"),
        ("no_labels", "alerts[0].labels: missing"),
        ("no_fingerprint", "alerts[0].fingerprint: missing"),
        ("fingerprint", "alerts[0].fingerprint"),
        ("starts_at", "alerts[0].startsAt"),
        ("naive_time", "alerts[0].startsAt"),
        ("ends_at_type", "alerts[0].endsAt"),
        ("truncated", "truncatedAlerts"),
        ("receiver", "receiver"),
    ],
)
def test_junk_is_refused_naming_the_field(change: str, names: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_notification(_broken(change))
    assert str(caught.value).startswith(names)


@pytest.mark.parametrize("data", [None, [], "4", 4, {"version": "4"}, {}])
def test_not_an_object_or_empty(data: Any) -> None:
    with pytest.raises(PayloadError):
        parse_notification(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON)
def test_arbitrary_json_is_a_payload_error_or_a_notification(data: Any) -> None:
    try:
        notification = parse_notification(data)
    except PayloadError as exc:
        assert str(exc)  # says what is wrong
    else:
        assert notification.alerts


@given(st.sampled_from(["status", "labels", "startsAt", "endsAt", "fingerprint"]), JSON)
def test_any_value_in_an_alert_field_is_handled(key: str, junk: Any) -> None:
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["alerts"][0][key] = junk
    try:
        parse_notification(data)
    except PayloadError as exc:
        assert str(exc).startswith(f"alerts[0].{key}")


def test_a_fingerprint_with_a_trailing_newline_is_refused() -> None:
    """Issue 15, fault 8: "$" matched before a final newline."""
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["alerts"][0]["fingerprint"] += "\n"
    with pytest.raises(PayloadError, match=r"alerts\[0\]\.fingerprint"):
        parse_notification(data)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_that_is_no_instant_in_utc_is_refused_naming_the_field(stamp: str) -> None:
    """Issue 15, fault 1: these were accepted, then every render overflowed."""
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["alerts"][0]["startsAt"] = stamp
    with pytest.raises(PayloadError, match=r"alerts\[0\]\.startsAt: outside years 1-9999"):
        parse_notification(data)


def test_lone_surrogates_become_replacement_characters() -> None:
    """Issue 15, fault 1: "\\ud800" in a summary made every render fail (UnicodeEncodeError)."""
    body = json.dumps(am_payload("am0.25_webhook_v4_griddown_single.json"))
    body = body.replace('"Grid lost"', '"Grid \\ud800 lost"')
    n = parse_notification(json.loads(body))
    assert n.alerts[0].annotations["summary"] == "Grid \ufffd lost"
    n.alerts[0].annotations["summary"].encode("utf-8")  # encodable everywhere now


# Go formats times as RFC 3339 with up to 9 fractional digits and any offset up to ±23:59;
# Alertmanager sends years 1 (its zero time) to 9999.
OFFSETS = st.sampled_from(["Z", "+00:00", "+01:00", "-14:00", "+14:00", "-23:59", "+23:59"])
RFC3339 = st.builds(
    lambda d, frac, off: d.strftime("%Y-%m-%dT%H:%M:%S").zfill(19) + frac + off,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", ".1", ".244648", ".244648123"]),
    OFFSETS,
)
EDGE_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59.999999999Z",
        "0001-01-01T23:59:59+23:59",
    ]
)
TEXT = st.text(st.characters(codec=None), max_size=40)  # every code point, surrogates too


@given(
    starts=RFC3339 | EDGE_TIMES,
    ends=RFC3339 | EDGE_TIMES,
    status=st.sampled_from(["firing", "resolved"]),
    labels=st.dictionaries(TEXT, TEXT, max_size=4),
    annotations=st.dictionaries(st.sampled_from(["summary", "description"]) | TEXT, TEXT),
    zone=st.sampled_from(["Europe/Kyiv", "America/Los_Angeles", "Pacific/Kiritimati", "UTC"]),
    language=st.sampled_from(["en", "uk", "sv"]),
)
def test_any_accepted_payload_renders_into_messages_telegram_accepts(
    *,
    starts: str,
    ends: str,
    status: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    zone: str,
    language: str,
) -> None:
    """Whatever the webhook accepts can be stored, read back and rendered: no poison job."""
    data = am_payload("am0.25_webhook_v4_griddown_single.json")
    data["status"] = status
    data["alerts"][0].update(
        status=status,
        startsAt=starts,
        endsAt=ends,
        labels={**labels, "alertname": "GridDown"},
        annotations=annotations,
    )
    try:
        n = parse_notification(json.loads(json.dumps(data)))
    except PayloadError as exc:
        assert str(exc).startswith(("alerts[0].startsAt", "alerts[0].endsAt"))
        return
    stored = json.dumps(encode_notification(n))  # what the outbox writes
    assert parse_notification(json.loads(stored)) == n
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    parts = messages(n, [], Catalog(language), ZoneInfo(zone), now=now)  # type: ignore[arg-type]
    assert parts
    for part in parts:
        assert check_html(part)[0] is None
        assert utf16_len(part) <= MAX_MESSAGE
        part.encode("utf-8")
