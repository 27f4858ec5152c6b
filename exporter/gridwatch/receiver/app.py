"""Assemble the receiver from a Config: outbox, webhook server, worker, Telegram and Tuya.

The integrations are imported only when configured, so a site without Telegram or Tuya never
loads their libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gridwatch.config import Config, ConfigError
from gridwatch.core.startup import listen
from gridwatch.core.statedb import StateDB
from gridwatch.core.tasks import cancel_and_wait
from gridwatch.receiver.config import ReceiverConfig
from gridwatch.receiver.http_noise import quiet_malformed_requests
from gridwatch.receiver.metrics import ReceiverStats, make_registry
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.ports import Notifier, PlugActions
from gridwatch.receiver.scheduled import Fetch, ScheduledLoads, http_fetch
from gridwatch.receiver.switches import Backend, CombinedActions
from gridwatch.receiver.tuya.config import ActionRule
from gridwatch.receiver.webhook import PATH, Webhook, make_app
from gridwatch.receiver.worker import RetryPolicy, Worker
from gridwatch.shutdown import StopSignals

log = logging.getLogger(__name__)

DB_NAME = "receiver.db"


def receiver_settings(config: Config, source: str = "<config>") -> tuple[ReceiverConfig, str]:
    """The receiver section and its webhook token, or the ConfigError that stops the start."""
    settings = config.receiver
    if settings is None:
        raise ConfigError(source, [("receiver", "missing: the receiver needs this section")])
    token = settings.resolved_token()
    if not token:
        raise ConfigError(
            source,
            [
                (
                    "receiver.token_file",
                    "the receiver needs the bearer token Alertmanager sends: set token_file "
                    "(or token)",
                )
            ],
        )
    return settings, token


Closer = Callable[[], Awaitable[None]]


@dataclass
class Integrations:
    """What the config asks for; ``closers`` run in reverse order at shutdown."""

    notifier: Notifier | None = None
    plugs: PlugActions | None = None
    bot: Any = None  # the Telegram bot, when its commands are on (gets the override hook)
    closers: list[Closer] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            try:
                await close()
            except Exception:  # one failing close must not skip the others
                log.exception("closing a receiver integration failed")
        self.closers.clear()


async def open_integrations(config: Config) -> Integrations:
    settings, _ = receiver_settings(config)
    found = Integrations()
    try:
        found.plugs = _switches(settings, found)
        if settings.telegram is not None:
            from gridwatch.receiver.telegram.notifier import (  # noqa: PLC0415
                TelegramNotifier,
            )

            notifier = TelegramNotifier(settings.telegram, tz=config.site.timezone)
            await notifier.start()
            found.closers.append(notifier.close)
            found.notifier = notifier
            if settings.telegram.commands:
                from gridwatch.receiver.telegram.bot import TelegramBot  # noqa: PLC0415

                bot = TelegramBot(settings, found.plugs, tz=config.site.timezone)
                await bot.start()
                found.closers.append(bot.stop)
                found.bot = bot
    except BaseException:
        await found.close()
        raise
    return found


def _switches(settings: ReceiverConfig, found: Integrations) -> PlugActions | None:
    """The configured switch backends (Tuya plugs, HomeWizard sockets) as one PlugActions."""
    backends: list[Backend] = []
    rules = list(settings.actions)
    if settings.tuya is not None:
        from gridwatch.receiver.tuya.actions import TuyaActions  # noqa: PLC0415

        # Each backend gets the rules with only its own names: Tuya checks every name it sees.
        own = set(settings.tuya.groups) | {p.name for p in settings.tuya.plugs}
        tuya = TuyaActions(settings.tuya, _narrowed(rules, own))
        found.closers.append(tuya.close)
        backends.append(tuya)
    if settings.homewizard is not None:
        from gridwatch.receiver.homewizard.actions import HomeWizardActions  # noqa: PLC0415

        sockets = HomeWizardActions(settings.homewizard, rules)
        found.closers.append(sockets.close)
        backends.append(sockets)
    if len(backends) <= 1:
        return backends[0] if backends else None
    return CombinedActions(backends)


def _narrowed(rules: list[ActionRule], names: set[str]) -> list[ActionRule]:
    kept = []
    for rule in rules:
        groups = [g for g in rule.groups if g in names]
        plugs = [p for p in rule.plugs if p in names]
        if groups or plugs:
            kept.append(rule.model_copy(update={"groups": groups, "plugs": plugs}))
    return kept


class Receiver:
    """The webhook server and the worker over one outbox. ``notifier``/``plugs`` default to
    none; ``run`` passes the configured integrations (tests pass their own)."""

    def __init__(
        self,
        config: Config,
        *,
        notifier: Notifier | None = None,
        plugs: PlugActions | None = None,
        clock: Callable[[], float] = time.time,
        fetch: Fetch | None = None,
    ) -> None:
        self.config = config
        self.settings, token = receiver_settings(config)
        # FULL: a job answered 200 must survive a power cut (the grid going down is the point).
        self.db = StateDB(config.site.data_dir / DB_NAME, synchronous="FULL")
        self.outbox = Outbox(self.db)
        self.stats = ReceiverStats()
        self.worker = Worker(
            self.outbox,
            self.stats,
            notifier=notifier,
            plugs=plugs,
            policy=RetryPolicy.from_config(self.settings),
            retention=self.settings.dedup_retention,
            clock=clock,
        )
        self.webhook = Webhook(
            token=token,
            outbox=self.outbox,
            stats=self.stats,
            max_body_bytes=self.settings.max_body_bytes,
            on_accepted=self.worker.wake,
            clock=clock,
            notifier_problem=lambda: notifier.problem if notifier is not None else None,
        )
        self.registry = make_registry(self.stats, self.outbox)
        self.scheduled: ScheduledLoads | None = None
        automation = config.automation
        if automation is not None and automation.loads:
            self.scheduled = ScheduledLoads(
                automation,
                self.outbox,
                fetch or http_fetch(automation.exporter_url),
                clock=clock,
                wake=self.worker.wake,
                notify=automation.notify,
                stats=self.stats,
            )
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._scheduled_task: asyncio.Task[None] | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        host = self.settings.listen_address
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        pending = self.outbox.counts["pending"]
        if pending:
            log.info("resuming %d pending job(s) from %s", pending, self.db.path)
        self._task = asyncio.create_task(self.worker.run())
        if self.scheduled is not None:
            self._scheduled_task = asyncio.create_task(self.scheduled.run())
        quiet_malformed_requests()
        app = make_app(self.webhook, self.registry)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await listen(self._runner, self.settings.listen_address, self.settings.port, "receiver")
        self.port = int(self._runner.addresses[0][1])
        log.info("receiving Alertmanager webhooks on %s%s", self.url, PATH)

    async def stop(self) -> None:
        """No new work first, then the worker stops where it is (unfinished steps stay in the
        outbox and resume at the next start)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await cancel_and_wait(self._scheduled_task)
        self._scheduled_task = None
        await cancel_and_wait(self._task)
        self._task = None
        self.db.close()


async def start_receiver(config: Config, stack: contextlib.AsyncExitStack) -> Receiver:
    """The configured integrations and the receiver over them, started; ``stack`` stops the
    receiver first and then closes the integrations."""
    integrations = await open_integrations(config)
    stack.push_async_callback(integrations.close)
    receiver = Receiver(config, notifier=integrations.notifier, plugs=integrations.plugs)
    if integrations.bot is not None and receiver.scheduled is not None:
        integrations.bot.override = receiver.scheduled.override  # /plugs NAME on|off [2h]
    await receiver.start()
    stack.push_async_callback(receiver.stop)
    return receiver


async def run(config: Config) -> None:
    with StopSignals() as stop:  # before anything starts: a signal mid-start-up stops cleanly
        async with contextlib.AsyncExitStack() as stack:
            await start_receiver(config, stack)
            await stop.wait()
            log.info("shutting down")
