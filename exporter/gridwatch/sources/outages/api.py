"""``GET /api/v1/outages``: the schedule in use, for the Telegram bot and for people.

Times are given twice: in the operator's zone (Europe/Kyiv, what the operator publishes) and in
UTC. A day that is not published has ``published: false`` and no windows, never an empty list.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridwatch.core.source import SourceKey
from gridwatch.core.state import StateStore
from gridwatch.sources.outages.metrics import current_schedule
from gridwatch.sources.outages.schedule import Schedule
from gridwatch.sources.outages.tracker import ScheduleTracker


def _times(ts: float | None, tz: ZoneInfo) -> dict[str, str] | None:
    if ts is None:
        return None
    return {
        "local": datetime.fromtimestamp(ts, tz).isoformat(),
        "utc": datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z"),
    }


def _day(schedule: Schedule | None, day: date, tz: ZoneInfo) -> dict[str, Any]:
    entry = schedule.days.get(day) if schedule is not None else None
    result: dict[str, Any] = {"date": day.isoformat(), "published": entry is not None}
    if entry is not None:
        result["windows"] = [
            {
                "from": w.start_text,
                "to": w.end_text,
                "start": _times(w.start, tz),
                "end": _times(w.end, tz),
                "seconds": w.seconds,
            }
            for w in entry.windows
        ]
        result["planned_outage_seconds"] = entry.planned_seconds
        result["approved_at"] = _times(entry.approved_at, tz)
    return result


MAX_DAYS = 3  # what /schedule shows: today, tomorrow and the day after when it is published


def _days_ahead(schedule: Schedule | None, today: date) -> list[date]:
    """Today and tomorrow always (published or not), then later published days, at most 3."""
    later = sorted(d for d in (schedule.days if schedule else {}) if d > today + timedelta(days=1))
    return [today, today + timedelta(days=1), *later][:MAX_DAYS]


def outages_snapshot(
    store: StateStore, key: SourceKey, tracker: ScheduleTracker, now: float
) -> dict[str, Any]:
    tz = tracker.tz
    schedule = current_schedule(store, key, tracker, now)
    today = datetime.fromtimestamp(now, tz).date()
    health = next((h for h in store.health() if h.key == key), None)
    outage = schedule.current_or_next(now) if schedule is not None else None
    return {
        "queue": tracker.queue,
        "operator": tracker.operator,
        "timezone": str(tz),
        "now": _times(now, tz),
        "available": schedule is not None,
        "fetched_at": _times(schedule.received_at if schedule else None, tz),
        "source": {
            "up": health.up if health else None,
            "error": (
                {"reason": health.last_error_reason, "message": health.last_error_message}
                if health is not None and health.up is False
                else None
            ),
        },
        "active": schedule.active(now) if schedule is not None else None,
        "next_outage": (
            {"start": _times(outage[0], tz), "end": _times(outage[1], tz)} if outage else None
        ),
        "today": _day(schedule, today, tz),
        "tomorrow": _day(schedule, today + timedelta(days=1), tz),
        "days": [_day(schedule, day, tz) for day in _days_ahead(schedule, today)],
        "last_change": {
            "count": tracker.changes,
            "at": _times(tracker.last_change, tz),
            "days": [d.isoformat() for d in tracker.last_changed_days],
        },
    }


def outages_route(store: StateStore, key: SourceKey, tracker: ScheduleTracker) -> web.RouteDef:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(outages_snapshot(store, key, tracker, store.now()))

    return web.get("/api/v1/outages", handler)
