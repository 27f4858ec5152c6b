"""Values read from the exporter's JSON API bodies (``/api/v1/prices``, ``/api/v1/outages``).

The receiver is a peer that may run another version: a field that is missing or malformed
reads as None, and the text is written without it, never with a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utc_time(value: Any) -> datetime | None:
    """``2025-01-02T03:04:05Z`` → an aware datetime; anything else → None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def body_zone(body: dict[str, Any]) -> ZoneInfo | None:
    """The zone the exporter names in ``timezone`` (the site's, or the operator's for outages)."""
    try:
        return ZoneInfo(str(body.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        return None
