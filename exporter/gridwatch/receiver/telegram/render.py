"""A notification and its plug results → the HTML text of Telegram messages (≤ 4096 each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from gridwatch.receiver.model import Alert, AlertStatus, Notification, PlugResult
from gridwatch.receiver.telegram.markup import b, esc, i, split_message
from gridwatch.receiver.telegram.templates import Catalog

# Labels that say *which* thing an alert is about, in the order a person reads them.
IDENTITY_LABELS = ("meter", "phase", "inverter", "battery", "queue", "source", "device", "plug")


def alert_target(labels: Mapping[str, str]) -> str:
    seen: list[str] = []
    for key in IDENTITY_LABELS:
        text = labels.get(key, "")
        if text and text not in seen:
            seen.append(text)
    return " ".join(seen)


def alert_headline(
    catalog: Catalog,
    status: AlertStatus,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
) -> str:
    """The alert's headline in the catalog's language, plain text; the generic one uses the
    summary annotation, then the alert's name."""
    name = labels.get("alertname", "")
    target = alert_target(labels)
    values: dict[str, object] = {**labels, **annotations, "target": target}
    key = f"alert.{name}.{status}"
    if not catalog.has(key):
        key = f"alert.generic.{status}"
        values["summary"] = annotations.get("summary") or name or "alert"
    text = catalog.plain(key, **values)
    return text if target else text.rstrip(": ")  # "Battery low: " when no battery is named


def alert_title(
    catalog: Catalog,
    status: AlertStatus,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
) -> str:
    """``alert_headline``, HTML-escaped."""
    return esc(alert_headline(catalog, status, labels, annotations))


def format_time(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    try:
        local = moment.astimezone(tz)
    except OverflowError:  # year 1 or 9999 shifted out of range by the zone: show it in UTC
        return moment.strftime("%d.%m.%Y %H:%M UTC")
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m.%Y %H:%M")


def _alert_block(
    alert: Alert, catalog: Catalog, tz: ZoneInfo, now: datetime, descriptions: bool
) -> list[str]:
    lines = [b(alert_title(catalog, alert.status, alert.labels, alert.annotations))]
    advice = f"alert.{alert.name}.advice"
    if alert.status == "firing" and catalog.has(advice):
        lines.append(catalog.t(advice))
    description = alert.annotations.get("description", "").strip()
    # The description explains the problem; once resolved it would read as if it still held.
    if descriptions and description and alert.status == "firing":
        lines.extend(i(esc(line)) for line in description.splitlines() if line.strip())
    if alert.status == "resolved" and alert.ends_at is not None:
        lasted = (alert.ends_at - alert.starts_at).total_seconds()
        lines.append(catalog.t("alert.lasted", duration=catalog.duration(max(lasted, 0))))
    else:
        lines.append(catalog.t("alert.since", time=format_time(alert.starts_at, tz, now)))
    return lines


def plug_lines(plugs: Sequence[PlugResult], catalog: Catalog) -> list[str]:
    if not plugs:
        return []
    directions = {p.on for p in plugs}
    if len(directions) > 1:
        heading = "plugs.heading.mixed"
    else:
        heading = "plugs.heading.on" if True in directions else "plugs.heading.off"
    lines = [b(catalog.t(heading))]
    for plug in plugs:
        detail = plug.detail or catalog.plain("unknown")
        if plug.kept_off:
            lines.append(catalog.t("plug.kept_off", plug=plug.plug))
        elif plug.outcome == "ok":
            lines.append(catalog.t("plug.ok.on" if plug.on else "plug.ok.off", plug=plug.plug))
        elif plug.outcome == "offline":
            lines.append(catalog.t("plug.offline", plug=plug.plug, detail=detail))
        else:
            lines.append(catalog.t("plug.error", plug=plug.plug, detail=detail))
    return lines


def render_notification(
    notification: Notification,
    plugs: Sequence[PlugResult],
    catalog: Catalog,
    tz: ZoneInfo,
    *,
    now: datetime,
    descriptions: bool = True,
) -> str:
    """The whole notification as one HTML text (``messages`` splits it)."""
    lines: list[str] = []
    for alert in notification.alerts:
        if lines:
            lines.append("")
        lines.extend(_alert_block(alert, catalog, tz, now, descriptions))
    if notification.truncated_alerts:
        lines += ["", catalog.t("alert.more", count=notification.truncated_alerts)]
    if plugs:
        lines += ["", *plug_lines(plugs, catalog)]
    return "\n".join(lines)


def messages(
    notification: Notification,
    plugs: Sequence[PlugResult],
    catalog: Catalog,
    tz: ZoneInfo,
    *,
    now: datetime,
    descriptions: bool = True,
) -> list[str]:
    """The notification split into messages Telegram accepts, in order."""
    text = render_notification(notification, plugs, catalog, tz, now=now, descriptions=descriptions)
    return split_message(text)
