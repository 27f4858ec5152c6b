"""The text of each bot command, as HTML lines. Missing data is said plainly, never shown as 0.

Numbers come from one Prometheus instant query per command (absent series = no data: the
exporter drops series it no longer knows, Prometheus marks them stale); details from the
exporter's JSON API; active alerts from Alertmanager.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from gridwatch.receiver.model import PlugState
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.markup import b, i
from gridwatch.receiver.telegram.outage_text import schedule_text, today_lines
from gridwatch.receiver.telegram.price_text import prices_text
from gridwatch.receiver.telegram.queries import PeerError, Samples, selector
from gridwatch.receiver.telegram.render import alert_headline, format_time

log = logging.getLogger(__name__)
INV = "gridwatch_inverter_"
BAT = "gridwatch_battery_"
LOW_SOC = 0.2  # the earlier bot's "< 20 %" warning
STATUS_METRICS = (
    "gridwatch_build_info",
    "gridwatch_grid_up",
    "gridwatch_grid_last_change_timestamp_seconds",
    INV + "output_power_watts",
    INV + "mains_power_watts",
    INV + "pv_total_power_watts",
    INV + "battery_soc_ratio",
    BAT + "soc_ratio",
    "gridwatch_p1_power_watts",
    "gridwatch_hw_device_power_watts",  # sub-meters: kWh meters and Energy Sockets
    "gridwatch_hw_device_info",
)
BATTERY_METRICS = (
    INV + "battery_soc_ratio",
    INV + "battery_voltage_volts",
    INV + "battery_current_amperes",
    INV + "battery_power_watts",
    BAT + "soc_ratio",
    BAT + "voltage_volts",
    BAT + "current_amperes",
    BAT + "power_watts",
    BAT + "cells",
    BAT + "cell_delta_volts",
    BAT + "temperature_celsius",
    BAT + "runtime_seconds",
    "gridwatch_outage_battery_runtime_seconds",
    "gridwatch_outage_battery_margin_joules",
)
COMMANDS = ("status", "battery", "schedule", "prices", "alerts", "plugs", "help")
REFRESHABLE = ("status", "battery", "schedule", "prices", "alerts", "plugs")


def _names(s: Samples, metric: str, label: str) -> list[str]:
    return sorted({x.labels.get(label, "") for x in s.of(metric)})


# -- /status -------------------------------------------------------------------------------------


def grid_line(ctx: Context, s: Samples) -> str:
    up = s.one("gridwatch_grid_up")
    if up is None:
        return b(ctx.t("status.grid_unknown"))
    line = b(ctx.t("status.grid_up" if up == 1 else "status.grid_down"))
    changed = s.one("gridwatch_grid_last_change_timestamp_seconds")
    if changed is not None:
        lasted = ctx.catalog.duration(max(ctx.clock() - changed, 0))
        line += f" ({ctx.t('status.since', time=ctx.clock_time(changed), duration=lasted)})"
    return line


def power_lines(ctx: Context, s: Samples) -> list[str]:
    lines = []
    parts_of = (("output_power_watts", "power.load"), ("mains_power_watts", "power.mains"),
                ("pv_total_power_watts", "power.pv"))  # fmt: skip
    inverters = sorted({x.labels.get("inverter", "") for m, _ in parts_of for x in s.of(INV + m)})
    for name in inverters:
        parts = []
        for metric, key in parts_of:
            value = s.one(INV + metric, inverter=name)
            if value is not None:
                parts.append(ctx.catalog.plain(key, value=ctx.unit(value, "W")))
        lines.append(ctx.t("power.line", name=name, parts=", ".join(parts)))
    for meter in _names(s, "gridwatch_p1_power_watts", "meter"):
        watts = s.one("gridwatch_p1_power_watts", meter=meter) or 0.0
        key = "meter.import" if watts >= 0 else "meter.export"
        lines.append(ctx.t(key, name=meter, value=ctx.unit(abs(watts), "W")))
    labels = {
        x.labels.get("device", ""): x.labels.get("label") for x in s.of("gridwatch_hw_device_info")
    }
    for device in _names(s, "gridwatch_hw_device_power_watts", "device"):
        watts = s.one("gridwatch_hw_device_power_watts", device=device) or 0.0
        name = labels.get(device) or device
        lines.append(ctx.t("submeter.line", name=name, value=ctx.unit(watts, "W")))
    return lines or [ctx.t("power.none")]


def battery_summary(ctx: Context, s: Samples) -> list[str]:
    lines = []
    for metric, label in ((INV + "battery_soc_ratio", "inverter"), (BAT + "soc_ratio", "battery")):
        for x in s.of(metric):
            name = x.labels.get(label, "")
            lines.append(ctx.t("status.battery", name=name, soc=ctx.percent(x.value)))
    return lines or [ctx.t("battery.none")]


async def status(ctx: Context) -> list[str]:
    lines: list[str] = []
    try:
        s = await ctx.peers.query(selector(*STATUS_METRICS))
    except PeerError as exc:
        lines.append(ctx.t("prometheus_down", error=exc))
    else:
        if "gridwatch_build_info" not in s.names():
            lines.append(ctx.t("no_exporter_data"))
        lines += [grid_line(ctx, s), "", *power_lines(ctx, s), *battery_summary(ctx, s)]
    states = await _plug_states(ctx)
    if states:
        words = ", ".join(f"{p.plug} {_plug_word(ctx, p)}" for p in states)
        lines.append(ctx.t("status.plugs", plugs=words))
    outages = await today_lines(ctx)
    if outages:
        lines += ["", *outages]
    return lines


# -- /battery ------------------------------------------------------------------------------------


def _soc_emoji(ratio: float) -> str:
    for limit, emoji in ((0.8, "🔋🟢"), (0.5, "🔋🟡"), (LOW_SOC, "🔋🟠")):
        if ratio >= limit:
            return emoji
    return "🔋🔴"


def _battery_block(ctx: Context, s: Samples, prefix: str, label: str, name: str) -> list[str]:
    def one(metric: str) -> float | None:
        return s.one(prefix + metric, **{label: name})

    soc_metric = "battery_soc_ratio" if prefix == INV else "soc_ratio"
    lines = [b(ctx.t("battery.inverter" if prefix == INV else "battery.pack", name=name))]
    if (soc := one(soc_metric)) is not None:
        lines.append(ctx.t("battery.soc", soc=ctx.percent(soc), emoji=_soc_emoji(soc)))
    volts = one("battery_voltage_volts" if prefix == INV else "voltage_volts")
    if volts is not None:
        lines.append(ctx.t("battery.voltage", value=ctx.unit(volts, "V", 1)))
    amps = one("battery_current_amperes" if prefix == INV else "current_amperes")
    if amps is not None:
        key = (
            "battery.charging"
            if amps > 0.05
            else ("battery.discharging" if amps < -0.05 else "battery.idle")
        )
        lines.append(ctx.t(key, value=ctx.unit(amps, "A", 1)))
    watts = one("battery_power_watts" if prefix == INV else "power_watts")
    if watts is not None:
        lines.append(ctx.t("battery.power", value=ctx.unit(watts, "W")))
    if prefix == BAT:
        cells, delta = one("cells"), one("cell_delta_volts")
        if cells is not None and delta is not None:
            lines.append(
                ctx.t("battery.cells", count=int(cells), delta=ctx.unit(delta * 1000, "mV"))
            )
        temps = [x.value for x in s.of(BAT + "temperature_celsius", battery=name)]
        if temps:
            lines.append(ctx.t("battery.temperature", value=ctx.unit(max(temps), "°C", 1)))
        if (runtime := one("runtime_seconds")) is not None:
            lines.append(ctx.t("battery.runtime", duration=ctx.catalog.duration(runtime)))
    return lines


async def battery(ctx: Context) -> list[str]:
    try:
        s = await ctx.peers.query(selector(*BATTERY_METRICS))
    except PeerError as exc:
        return [ctx.t("prometheus_down", error=exc)]
    lines = [b(ctx.t("battery.title"))]
    blocks = [(INV, "inverter", n) for n in _names(s, INV + "battery_soc_ratio", "inverter")]
    blocks += [(INV, "inverter", n) for n in _names(s, INV + "battery_voltage_volts", "inverter")]
    blocks += [(BAT, "battery", n) for n in _names(s, BAT + "voltage_volts", "battery")]
    blocks += [(BAT, "battery", n) for n in _names(s, BAT + "soc_ratio", "battery")]
    for prefix, label, name in dict.fromkeys(blocks):
        lines += ["", *_battery_block(ctx, s, prefix, label, name)]
    if len(lines) == 1:
        return [ctx.t("battery.none")]
    socs = [x.value for x in s.of(INV + "battery_soc_ratio") + s.of(BAT + "soc_ratio")]
    if socs and min(socs) < LOW_SOC:
        lines += ["", b(ctx.t("battery.low", threshold=round(LOW_SOC * 100))),
                  ctx.t("battery.low_advice")]  # fmt: skip
    for x in s.of("gridwatch_outage_battery_runtime_seconds"):
        queue = x.labels.get("queue", "")
        lasts = ctx.t("battery.outage_lasts", queue=queue, duration=ctx.catalog.duration(x.value))
        lines += ["", lasts]
        margin = s.one("gridwatch_outage_battery_margin_joules", queue=queue)
        if margin is not None and margin < 0:
            lines.append(ctx.t("battery.outage_short", queue=queue))
    return lines


# -- /alerts, /plugs, /help ----------------------------------------------------------------------

_SEVERITY = {"critical": (0, "🔴"), "warning": (1, "🟡"), "info": (2, "🔵")}


async def alerts(ctx: Context) -> list[str]:
    try:
        active = await ctx.peers.alerts()
    except PeerError as exc:
        return [ctx.t("alertmanager_down", error=exc)]
    if not active:
        return [b(ctx.t("alerts.none"))]
    rows = []
    for alert in active:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        notes = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
        rank, emoji = _SEVERITY.get(labels.get("severity", ""), (3, "⚪"))
        try:
            since = datetime.fromisoformat(str(alert.get("startsAt")).replace("Z", "+00:00"))
        except ValueError:
            since = ctx.now()
        title = alert_headline(ctx.catalog, "firing", labels, notes)
        when = format_time(since, ctx.tz, ctx.now())
        rows.append((rank, since, ctx.t("alerts.line", emoji=emoji, title=title, time=when)))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [b(ctx.t("alerts.title", count=len(rows))), *(r[2] for r in rows)]


async def _plug_states(ctx: Context) -> list[PlugState] | None:
    if ctx.plugs is None:
        return None
    try:
        return await ctx.plugs.states()
    except Exception:  # the port promises not to raise; a bug there must not kill the bot
        log.exception("reading plug states failed")
        return []


def _plug_word(ctx: Context, state: PlugState) -> str:
    if state.outcome == "ok" and state.on is not None:
        return ctx.catalog.plain("plug_state.on" if state.on else "plug_state.off")
    return ctx.catalog.plain(
        "plug_state.offline" if state.outcome == "offline" else "plug_state.error"
    )


async def plugs(ctx: Context) -> list[str]:
    states = await _plug_states(ctx)
    if states is None or not states:
        return [ctx.t("plugs.none")]
    lines = [b(ctx.t("plugs.title"))]
    for state in states:
        word = _plug_word(ctx, state)
        if state.detail and state.outcome != "ok":
            word += f" ({state.detail})"
        lines.append(ctx.t("plugs.line", plug=state.plug, group=state.group, state=word))
    return lines


async def help_text(ctx: Context) -> list[str]:
    lines = [b(ctx.t("help.title"))]
    lines += [f"/{name} — {ctx.t('help.' + name)}" for name in COMMANDS]
    return lines


async def start(ctx: Context) -> list[str]:
    return [ctx.t("start.hello"), "", *await help_text(ctx)]


Command = Callable[[Context], Awaitable[list[str]]]
TEXTS: dict[str, Command] = {
    "start": start,
    "help": help_text,
    "status": status,
    "battery": battery,
    "schedule": schedule_text,
    "prices": prices_text,
    "alerts": alerts,
    "plugs": plugs,
}


async def render(ctx: Context, command: str) -> str:
    """The command's whole text, with the time it was made (so a refresh shows it is new)."""
    lines = await TEXTS[command](ctx)
    lines += ["", i(ctx.t("updated", time=ctx.now().astimezone(ctx.tz).strftime("%H:%M:%S")))]
    return "\n".join(lines)
