"""/prices: the price now and the cheapest windows from Prometheus, the coming hours from the
exporter's ``GET /api/v1/prices`` slots."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gridwatch.receiver.telegram.api_body import body_zone, utc_time
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.markup import b
from gridwatch.receiver.telegram.queries import PeerError, Samples, selector

P = "gridwatch_price_"
PRICE_METRICS = (
    P + "total_per_kwh",
    P + "spot_per_kwh",
    P + "day_total_per_kwh",
    P + "day_spot_per_kwh",
    P + "cheapest_window_start_timestamp_seconds",
    P + "cheapest_window_mean_per_kwh",
    P + "tomorrow_published",
)
NEXT_HOURS = 4


async def prices_text(ctx: Context) -> list[str]:
    try:
        s = await ctx.peers.query(selector(*PRICE_METRICS))
    except PeerError as exc:
        return [ctx.t("prometheus_down", error=exc)]
    areas = sorted({x.labels.get("area", "") for x in s.all if x.labels.get("area")})
    if not areas:
        return [ctx.t("prices.none")]
    lines: list[str] = []
    for area in areas:
        if lines:
            lines.append("")
        lines += _area_lines(ctx, s, area)
    lines += await _next_hours(ctx)
    return lines


def _area_lines(ctx: Context, s: Samples, area: str) -> list[str]:
    lines = [b(ctx.t("prices.title", area=area))]
    total = s.of(P + "total_per_kwh", area=area)
    spot = s.of(P + "spot_per_kwh", area=area)
    money = ctx.catalog.number
    if total:
        unit = f"{total[0].labels.get('currency', '')}/kWh"
        spot_text = money(spot[0].value, 2) if spot else ctx.catalog.plain("unknown")
        lines.append(ctx.t("prices.now_total", price=money(total[0].value, 2), unit=unit,
                           spot=spot_text))  # fmt: skip
    elif spot:
        unit = f"{spot[0].labels.get('currency', '')}/kWh"
        lines.append(ctx.t("prices.now_spot", price=money(spot[0].value, 2), unit=unit))
    stats = P + ("day_total_per_kwh" if total else "day_spot_per_kwh")
    day = {x.labels.get("stat"): x.value for x in s.of(stats, area=area, day="today")}
    if {"min", "mean", "max"} <= day.keys():
        lines.append(ctx.t("prices.today", **{k: money(v, 2) for k, v in day.items() if k}))
    windows = []
    for start in s.of(P + "cheapest_window_start_timestamp_seconds", area=area):
        hours = start.labels.get("hours", "")
        mean = s.one(P + "cheapest_window_mean_per_kwh", area=area, hours=hours)
        if mean is not None:
            windows.append((_int(hours), ctx.t("prices.cheapest", hours=hours,
                            time=ctx.clock_time(start.value), price=money(mean, 2))))  # fmt: skip
    if windows:
        lines.append(ctx.t("prices.cheapest_title"))
        lines += ["  " + text for _, text in sorted(windows)]
    published = s.one(P + "tomorrow_published", area=area)
    if published is not None:
        lines.append(ctx.t("prices.tomorrow_yes" if published else "prices.tomorrow_no"))
    return lines


async def _next_hours(ctx: Context) -> list[str]:
    """Hourly means of the coming slots; quiet when the exporter has no price details."""
    now = ctx.now()
    slots: list[dict[str, Any]] = []
    tz: ZoneInfo | None = None
    try:
        for day in (None, (now.astimezone(ctx.tz) + timedelta(days=1)).date()):
            body = await ctx.peers.prices(day)
            if body is None:
                break
            tz = tz or body_zone(body)
            slots += [x for x in body.get("slots", []) if isinstance(x, dict)]
            if len(_coming(slots, now)) >= NEXT_HOURS * 4:
                break
    except PeerError as exc:
        return ["", ctx.t("exporter_down", error=exc)]
    hours: dict[datetime, list[float]] = {}
    for slot in _coming(slots, now):
        price = slot.get("total") if slot.get("total") is not None else slot.get("spot")
        if not isinstance(price, int | float):
            continue
        start = utc_time(slot.get("start_utc"))
        if start is None:
            continue
        hour = start.astimezone(tz or ctx.tz).replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, []).append(float(price))
    if not hours:
        return []
    lines = ["", ctx.t("prices.next_title")]
    for hour in sorted(hours)[:NEXT_HOURS]:
        mean = sum(hours[hour]) / len(hours[hour])
        text = ctx.t("prices.next_hour", time=hour.strftime("%H:%M"),
                     price=ctx.catalog.number(mean, 2))  # fmt: skip
        lines.append("  " + text)
    return lines


def _coming(slots: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    result = []
    for slot in slots:
        end = utc_time(slot.get("end_utc"))
        if end is not None and end > now:
            result.append(slot)
    return result


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 99
