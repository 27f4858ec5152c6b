"""The outage schedule as chat lines, from the exporter's ``GET /api/v1/outages``.

Windows are marked past / now / coming against the exporter's own ``now``, so the marks agree
with its metrics; "not published" and "no outages" are different lines, as they are in the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gridwatch.receiver.telegram.api_body import body_zone, utc_time
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.markup import b, esc, i
from gridwatch.receiver.telegram.queries import PeerError


def _moment(value: Any) -> datetime | None:
    """The API's ``{"utc": "…Z", …}`` moment → its UTC time."""
    return utc_time(value.get("utc")) if isinstance(value, dict) else None


def _date_text(day: Any) -> str:
    try:
        return date.fromisoformat(str(day)).strftime("%d.%m.%Y")
    except ValueError:
        return esc(day)


def _window_values(ctx: Context, window: dict[str, Any]) -> dict[str, object]:
    return {
        "start": window.get("from", "?"),
        "end": window.get("to", "?"),
        "duration": ctx.catalog.duration(float(window.get("seconds") or 0)),
    }


def _listed(ctx: Context, day: dict[str, Any], field: str, key: str) -> list[str]:
    """Possible or preliminary windows: shown for planning, marked as not definite."""
    items = day.get(field)
    if not isinstance(items, list):
        return []
    return ["  " + ctx.t(key, **_window_values(ctx, w)) for w in items if isinstance(w, dict)]


def day_lines(ctx: Context, day: dict[str, Any], now: datetime | None) -> list[str]:
    when = _date_text(day.get("date"))
    status = day.get("status")
    head = b(ctx.t("schedule.day", date=when))
    if status == "emergency":
        return [head, "  " + ctx.t("schedule.emergency")]
    if status == "waiting":
        lines = [head, "  " + ctx.t("schedule.waiting")]
        lines += _listed(ctx, day, "preliminary", "schedule.window_preliminary")
        return lines + _listed(ctx, day, "possible", "schedule.window_possible")
    if not day.get("published"):
        return [head, "  " + ctx.t("schedule.not_published")]
    return _published_lines(ctx, day, now, when) + _listed(
        ctx, day, "possible", "schedule.window_possible"
    )


def _published_lines(
    ctx: Context, day: dict[str, Any], now: datetime | None, when: str
) -> list[str]:
    windows = [w for w in day.get("windows", []) if isinstance(w, dict)]
    total = day.get("planned_outage_seconds")
    if windows and isinstance(total, int | float):
        head = ctx.t("schedule.day_total", date=when, total=ctx.catalog.duration(total))
    else:
        head = ctx.t("schedule.day", date=when)
    lines = [b(head)]
    if not windows:
        return [*lines, "  " + ctx.t("schedule.none_planned")]
    for window in windows:
        start, end = _moment(window.get("start")), _moment(window.get("end"))
        values = _window_values(ctx, window)
        if now is not None and end is not None and end <= now:
            key = "schedule.window_past"
        elif now is not None and start is not None and start <= now:
            key = "schedule.window_now"
        else:
            key = "schedule.window_future"
        lines.append("  " + ctx.t(key, **values))
    return lines


async def fetch(ctx: Context, queue: str | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """(the API's answer or None, lines saying why there is none)."""
    try:
        body = await ctx.peers.outages(queue)
    except PeerError as exc:
        return None, [ctx.t("exporter_down", error=exc)]
    if body is None:
        return None, [ctx.t("schedule.not_configured")]
    if not body.get("available"):
        return None, [ctx.t("schedule.unavailable"), *_source_trouble(ctx, body)]
    return body, []


def _source_trouble(ctx: Context, body: dict[str, Any]) -> list[str]:
    source = body.get("source") or {}
    if source.get("up") is False:
        error = source.get("error") or {}
        return [
            ctx.t("schedule.source_down", error=error.get("reason") or ctx.catalog.plain("unknown"))
        ]
    return []


async def today_lines(ctx: Context) -> list[str]:
    """/status: today's windows only; nothing when no schedule is configured."""
    body, problems = await fetch(ctx)
    if body is None:
        configured = problems != [ctx.t("schedule.not_configured")]
        return problems if configured else []
    today = body.get("today") or {}
    lines = day_lines(ctx, today, _moment(body.get("now")))
    lines[0] = b(ctx.t("status.outages_today", date=_date_text(today.get("date"))))
    return [*lines, *_source_trouble(ctx, body)]


async def schedule_text(ctx: Context) -> list[str]:
    """/schedule: every configured queue (the exporter's ``queues``), each with up to 3 days."""
    body, problems = await fetch(ctx)
    if body is None:
        return problems
    lines = _queue_lines(ctx, body)
    others = body.get("queues")
    for queue in others[1:] if isinstance(others, list) else []:
        more, problems = await fetch(ctx, str(queue))
        lines += ["", *(problems if more is None else _queue_lines(ctx, more))]
    return lines


def _queue_lines(ctx: Context, body: dict[str, Any]) -> list[str]:
    """One queue: today, tomorrow, and the day after when the operator has published it (the
    exporter's ``days``; older exporters give only today/tomorrow)."""
    lines = [b(ctx.t("schedule.title", queue=body.get("queue", "?")))]
    now = _moment(body.get("now"))
    days = body.get("days")
    if not isinstance(days, list) or not days:
        days = [body.get("today"), body.get("tomorrow")]
    for day in days[:3]:
        if isinstance(day, dict):
            lines += ["", *day_lines(ctx, day, now)]
    lines += ["", *_source_trouble(ctx, body)]
    fetched = _moment(body.get("fetched_at"))
    if fetched is not None:
        when = ctx.clock_time(fetched.timestamp(), body_zone(body))
        lines.append(i(ctx.t("schedule.fetched", time=when)))
    return [line for n, line in enumerate(lines) if line or (n and lines[n - 1])]
