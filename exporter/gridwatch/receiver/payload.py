"""Alertmanager's webhook payload (``version`` "4") to and from ``Notification``.

Parsing is strict about what Alertmanager always sends (so junk gets a 400 that names the field)
and tolerant of fields it does not know (newer releases add some). The outbox stores a job's
notification in the same v4 shape, so one parser serves both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from gridwatch.receiver.model import Alert, AlertStatus, Notification

# Go's zero time.Time: what Alertmanager sends as endsAt of an alert that still fires.
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_ZERO_TEXT = "0001-01-01T00:00:00Z"
_FINGERPRINT = re.compile(r"[0-9a-f]{1,64}")  # fullmatch: "$" would let a trailing newline in
# JSON can carry lone UTF-16 surrogates ("\ud800") that no encoder accepts; Go's encoder (so
# Alertmanager) never sends them, so they become U+FFFD here instead of failing every render.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_STATUSES = ("firing", "resolved")


class PayloadError(ValueError):
    """The body is not an Alertmanager v4 notification; the message names the field."""


def _field(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise PayloadError(f"{where}{key}: missing")
    return obj[key]


def clean_text(value: str) -> str:
    """``value`` with lone surrogates replaced, so it can be encoded (UTF-8, UTF-16) anywhere."""
    return _LONE_SURROGATE.sub("\ufffd", value)


def _string(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    if not required and key not in obj:
        return ""
    value = _field(obj, key, where)
    if not isinstance(value, str):
        raise PayloadError(f"{where}{key}: expected a string")
    return clean_text(value)


def _string_map(
    obj: dict[str, Any], key: str, where: str, *, required: bool = True
) -> dict[str, str]:
    if not required and obj.get(key) is None:
        return {}
    value = _field(obj, key, where)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError(f"{where}{key}: expected a map of strings")
    return {clean_text(k): clean_text(v) for k, v in value.items()}


def _status(obj: dict[str, Any], where: str) -> AlertStatus:
    value = _string(obj, "status", where)
    if value not in _STATUSES:
        raise PayloadError(f"{where}status: expected firing or resolved, got {value[:20]!r}")
    return cast(AlertStatus, value)


def _time(obj: dict[str, Any], key: str, where: str) -> datetime:
    text = _string(obj, key, where)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}{key}: not an RFC 3339 time: {text[:40]!r}") from None
    if stamp.tzinfo is None:
        raise PayloadError(f"{where}{key}: time without a zone: {text[:40]!r}")
    try:
        # Held in UTC: "0001-01-01T00:00:00+01:00" parses but is no instant Python can hold.
        return stamp.astimezone(UTC)
    except OverflowError:
        raise PayloadError(f"{where}{key}: outside years 1-9999 in UTC: {text[:40]!r}") from None


def _alert(raw: Any, where: str) -> Alert:
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: expected an object")
    where += "."
    fingerprint = _string(raw, "fingerprint", where)
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise PayloadError(f"{where}fingerprint: expected lower-case hex, got {fingerprint[:70]!r}")
    ends_at: datetime | None = _time(raw, "endsAt", where)
    if ends_at == _ZERO_TIME:
        ends_at = None
    return Alert(
        status=_status(raw, where),
        labels=_string_map(raw, "labels", where),
        annotations=_string_map(raw, "annotations", where, required=False),
        starts_at=_time(raw, "startsAt", where),
        ends_at=ends_at,
        fingerprint=fingerprint,
        generator_url=_string(raw, "generatorURL", where, required=False),
    )


def parse_notification(data: Any) -> Notification:
    """A decoded JSON body as a Notification; PayloadError for anything else."""
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    version = data.get("version")
    if version != "4":
        raise PayloadError(f'version: expected "4" (Alertmanager webhook), got {version!r:.20}')
    raw_alerts = _field(data, "alerts", "")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise PayloadError("alerts: expected a non-empty list")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts: expected a non-negative integer")
    return Notification(
        receiver=_string(data, "receiver", ""),
        status=_status(data, ""),
        alerts=tuple(_alert(a, f"alerts[{i}]") for i, a in enumerate(raw_alerts)),
        group_labels=_string_map(data, "groupLabels", "", required=False),
        common_labels=_string_map(data, "commonLabels", "", required=False),
        common_annotations=_string_map(data, "commonAnnotations", "", required=False),
        external_url=_string(data, "externalURL", "", required=False),
        group_key=_string(data, "groupKey", "", required=False),
        truncated_alerts=truncated,
    )


def _time_text(stamp: datetime | None) -> str:
    return _ZERO_TEXT if stamp is None else stamp.isoformat()


def encode_notification(notification: Notification) -> dict[str, Any]:
    """The v4 shape again, for the outbox; ``parse_notification`` reads it back unchanged."""
    return {
        "version": "4",
        "receiver": notification.receiver,
        "status": notification.status,
        "alerts": [
            {
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": a.starts_at.isoformat(),
                "endsAt": _time_text(a.ends_at),
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            }
            for a in notification.alerts
        ],
        "groupLabels": notification.group_labels,
        "commonLabels": notification.common_labels,
        "commonAnnotations": notification.common_annotations,
        "externalURL": notification.external_url,
        "groupKey": notification.group_key,
        "truncatedAlerts": notification.truncated_alerts,
    }
