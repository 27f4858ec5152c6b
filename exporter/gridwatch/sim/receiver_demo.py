"""The receiver in `gridwatch demo`: tuyamock plugs, the simulated HomeWizard Energy Sockets, a
fake Telegram Bot API and its chat window.

Runs after the exporter (the bot reads the exporter's JSON API) and after the areas' demo parts
(the Energy Sockets it switches are the simulated devices the exporter reads). Without a
``receiver:`` section the demo makes one: the heavy plugs and every Energy Socket switched off on
GridDown and back on, staggered, when it resolves, and a chat in Ukrainian. With a section of the
user's, its plug and socket names, groups, action rules, language and first chat id are kept and
only the peers are simulated.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridwatch.config import Config
from gridwatch.receiver.app import start_receiver
from gridwatch.receiver.config import ReceiverConfig
from gridwatch.sim.telegram.bot_api import FakeBotApi
from gridwatch.sim.telegram.chat import ChatWindow
from gridwatch.sim.tuya.local import TuyaLocalSim
from gridwatch.sources.homewizard import DEVICES

log = logging.getLogger(__name__)

DEMO_CHAT = 1001
DEMO_PLUGS: tuple[tuple[str, str], ...] = (("boiler", "3.3"), ("heater", "3.4"), ("washer", "3.5"))


@dataclass
class DemoReceiver:
    url: str
    token_file: Path
    lines: list[str] = field(default_factory=list)


def write_token_file(workdir: Path) -> Path:
    """A made-up webhook token for this run, as Alertmanager's credentials_file reads it."""
    token_file = workdir / "receiver_token"
    token_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    token_file.chmod(0o600)
    return token_file


def _plugs_wanted(config: Config, taken: set[str]) -> list[tuple[str, str, list[str]]]:
    """(name, protocol version, groups) of the plugs to simulate; ``taken`` names are sockets."""
    tuya = config.receiver.tuya if config.receiver else None
    if tuya is None:
        return [(name, version, ["heavy"]) for name, version in DEMO_PLUGS if name not in taken]
    return [(plug.name, getattr(plug, "version", "3.4"), plug.all_groups) for plug in tuya.plugs]


def _sockets_wanted(config: Config) -> list[dict[str, Any]]:
    """The receiver's Energy Sockets, pointed at the demo's simulated ones (by name).

    ``config`` is the demo's, after the HomeWizard part replaced every device by a simulator.
    Without a ``receiver.homewizard`` section of the user's, every simulated socket is one, in
    the ``heavy`` group, unless a Tuya plug of the user's already has its name.
    """
    simulated = {
        d.name: {"host": d.host, "http_port": d.http_port}
        for d in DEVICES.of(config)
        if d.product_type == "HWE-SKT"
    }
    user = config.receiver.homewizard if config.receiver else None
    if user is not None:
        return [
            {**socket.model_dump(exclude_defaults=True), **simulated[socket.name]}
            for socket in user.sockets
            if socket.name in simulated
        ]
    tuya = config.receiver.tuya if config.receiver else None
    plugs = {p.name for p in tuya.plugs} if tuya else set()
    return [
        {"name": name, **where, "group": "heavy"}
        for name, where in simulated.items()
        if name not in plugs
    ]


def _section(
    config: Config,
    *,
    api: FakeBotApi,
    plugs: TuyaLocalSim | None,
    sockets: list[dict[str, Any]],
    token_file: Path,
    urls: dict[str, str],
) -> dict[str, Any]:
    user = config.receiver
    telegram = user.telegram if user else None
    section: dict[str, Any] = {
        "listen_address": "127.0.0.1",
        "port": 0,
        "token_file": str(token_file),
        **urls,
        "telegram": {
            "bot_token": api.token,
            "chat_ids": [telegram.chat_ids[0] if telegram else DEMO_CHAT],
            "language": telegram.language if telegram else "uk",
            "api_base_url": api.url,
            "poll_timeout": "2s",
        },
    }
    if plugs is not None:
        section["tuya"] = {"plugs": plugs.configs(), "stagger": "3s"}
    if sockets:
        section["homewizard"] = {"sockets": sockets, "stagger": "3s"}
    if plugs is not None or sockets:
        if user is not None and user.actions:
            section["actions"] = [rule.model_dump(exclude_defaults=True) for rule in user.actions]
        else:
            section["actions"] = [{"match": {"alertname": "GridDown"}, "groups": ["heavy"]}]
    return section


async def start_demo_receiver(
    config: Config,
    stack: contextlib.AsyncExitStack,
    *,
    workdir: Path,
    exporter_url: str,
    prometheus_url: str,
    alertmanager_url: str,
) -> DemoReceiver:
    api = FakeBotApi()
    await api.start()
    stack.push_async_callback(api.close)

    logging.getLogger("tuyamock").setLevel(logging.WARNING)  # a line per connection otherwise
    sockets = _sockets_wanted(config)
    sim = TuyaLocalSim()
    for name, version, groups in _plugs_wanted(config, {s["name"] for s in sockets}):
        sim.add(name, version=version, on=True, groups=groups)
    plugs: TuyaLocalSim | None = sim
    try:
        sim.start()
        stack.callback(sim.stop)
    except RuntimeError as exc:  # tuyamock (a dev dependency) is not installed
        log.warning("demo without Tuya plugs: %s", exc)
        sim.stop()
        plugs = None

    token_file = write_token_file(workdir)
    urls = {
        "prometheus_url": prometheus_url,
        "alertmanager_url": alertmanager_url,
        "exporter_url": exporter_url,
    }
    section = _section(
        config, api=api, plugs=plugs, sockets=sockets, token_file=token_file, urls=urls
    )
    settings = ReceiverConfig.model_validate(section)
    update: dict[str, Any] = {"receiver": settings}
    if config.automation is not None:  # the scheduled loads read this demo's exporter
        update["automation"] = config.automation.model_copy(update={"exporter_url": exporter_url})
    full = config.model_copy(update=update)
    receiver = await start_receiver(full, stack)

    assert settings.telegram is not None
    chat = ChatWindow(api, settings.telegram.chat_ids[0])
    await chat.start()
    stack.push_async_callback(chat.close)

    lines = [
        f"  receiver     {receiver.url}/alertmanager (webhook) · {receiver.url}/metrics",
        f"  telegram     {chat.url}  (simulated chat: alert messages, try /status)",
    ]
    if plugs is not None:
        names = ", ".join(plugs.plugs)
        lines.append(f"  tuya plugs   {names} (tuyamock, local protocol 3.3–3.5 on 127.0.0.1)")
    else:
        lines.append("  tuya plugs   skipped: pip install --no-deps tuyamock==0.0.6")
    if sockets:
        names = ", ".join(s["name"] for s in sockets)
        lines.append(f"  sockets      {names} (simulated HomeWizard Energy Sockets, API v1)")
    return DemoReceiver(f"{receiver.url}/alertmanager", token_file, lines)
