"""``TelegramNotifier``: sends each notification to every configured chat (the ``Notifier`` port).

A notification may need several messages (4096-character limit) to several chats. What was
already sent is remembered per notification (keyed by its alerts' dedup keys), so when the core
calls ``notify`` again after a retryable failure, only the rest is sent: nobody gets a message
twice. That memory lives in this process; work retried after a receiver restart starts over.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, MutableSet, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from gridwatch.receiver.model import Notification, PlugResult
from gridwatch.receiver.ports import DeliveryError
from gridwatch.receiver.telegram.client import make_bot, redact
from gridwatch.receiver.telegram.config import TelegramConfig
from gridwatch.receiver.telegram.render import messages
from gridwatch.receiver.telegram.templates import Catalog

log = logging.getLogger(__name__)
_MAX_PENDING = 1000  # notifications in progress remembered; the oldest are forgotten first


@dataclass
class _Progress:
    sent: set[str] = field(default_factory=set)  # "chat:part index" (and "chat:refused")
    failed: dict[int, str] = field(default_factory=dict)  # chat → why it will never work


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 gives an int or a timedelta depending on PTB_TIMEDELTA and warns about the int.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError, what: str) -> DeliveryError:
    """Telegram's answer → what the outbox should do with the work."""
    message = redact(f"{what}: {exc.message}")
    if isinstance(exc, RetryAfter):
        return DeliveryError(message, retryable=True, retry_after=retry_after_seconds(exc))
    if isinstance(exc, InvalidToken):
        # The bot's token, not this message: every chat fails alike until the token is fixed
        # (and the receiver restarted). Keep the work; load shedding carries on meanwhile.
        return DeliveryError(message, retryable=True)
    if isinstance(exc, BadRequest | Forbidden | ChatMigrated):
        return DeliveryError(message, retryable=False)  # the same request can never succeed
    if isinstance(exc, NetworkError):
        return DeliveryError(message, retryable=True)  # timeouts, 5xx, connection refused
    return DeliveryError(message, retryable=True)


class TelegramNotifier:
    def __init__(
        self,
        config: TelegramConfig,
        *,
        tz: ZoneInfo | str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.catalog = Catalog(config.language)
        zone = config.timezone or tz or "UTC"
        self.tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        self._clock = clock
        self._bot: Bot | None = None
        self._ready = False
        self._progress: dict[str, _Progress] = {}
        self.problem: str | None = None  # what /healthz shows while Telegram does not work

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(str(chat) for chat in self.config.chat_ids)

    async def start(self) -> None:
        """Checks the token with getMe. Never fatal: Telegram unreachable, or a token it
        rejects, costs only the messages (retried later); the plugs keep being switched."""
        self._bot = make_bot(self.config)
        try:
            await self._initialize()
        except DeliveryError as exc:
            log.error("Telegram not usable at start (%s); messages wait and are retried", exc)

    async def close(self) -> None:
        if self._bot is not None and self._ready:
            await self._bot.shutdown()
        self._bot, self._ready = None, False

    async def _initialize(self) -> Bot:
        if self._bot is None:
            raise DeliveryError("TelegramNotifier.start() was not called", retryable=False)
        if not self._ready:
            try:
                await self._bot.initialize()
            except TelegramError as exc:
                error = delivery_error(exc, "Telegram getMe")
                self.problem = str(error)
                raise error from None
            self._ready = True
            log.info(
                "Telegram bot @%s ready, %d chat(s)", self._bot.username, len(self.config.chat_ids)
            )
        return self._bot

    @staticmethod
    def progress_key(notification: Notification) -> str:
        return notification.group_key + "|" + ",".join(a.dedup_key for a in notification.alerts)

    def render(self, notification: Notification, plugs: Sequence[PlugResult]) -> list[str]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        return messages(
            notification,
            plugs,
            self.catalog,
            self.tz,
            now=now,
            descriptions=self.config.show_descriptions,
        )

    async def notify(
        self,
        notification: Notification,
        plugs: Sequence[PlugResult],
        progress: MutableSet[str] | None = None,
        target: str | None = None,
    ) -> None:
        try:
            parts = self.render(notification, plugs)
        except Exception as exc:
            # Rendering is deterministic: what fails once fails on every retry. Dead-letter it
            # now, so it does not hold later messages back for retry_max_age.
            log.exception("cannot render the message for %s", self.progress_key(notification))
            raise DeliveryError(
                f"cannot render the message: {type(exc).__name__}", retryable=False, reason="render"
            ) from None
        bot = await self._initialize()
        # Per target too: the worker sends to several chats at once.
        key = f"{self.progress_key(notification)}|{target or '*'}"
        memory = self._progress.setdefault(key, _Progress())
        while len(self._progress) > _MAX_PENDING:
            del self._progress[next(iter(self._progress))]
        # The worker's progress survives a restart; without one, this process remembers.
        sent = progress if progress is not None else memory.sent
        failed = memory.failed
        silent = self.config.silent_resolved and notification.status == "resolved"
        chats = [c for c in self.config.chat_ids if target is None or str(c) == target]
        for chat in chats:
            if chat in failed or f"{chat}:refused" in sent:
                continue
            for index, text in enumerate(parts):
                if f"{chat}:{index}" in sent:
                    continue
                try:
                    await bot.send_message(
                        chat,
                        text,
                        parse_mode=ParseMode.HTML,
                        disable_notification=silent,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                except TelegramError as exc:
                    error = delivery_error(exc, f"sendMessage to chat {chat}")
                    if error.retryable:
                        if isinstance(exc, InvalidToken | NetworkError):
                            self.problem = str(error)
                        raise error from None
                    # This chat will never take it (bot blocked, chat gone, bad request):
                    # say so once, and still serve the other chats.
                    failed[chat] = str(error)
                    sent.add(f"{chat}:refused")
                    if isinstance(exc, ChatMigrated):
                        log.warning(
                            "%s; the group is now chat %s: update chat_ids", error, exc.new_chat_id
                        )
                    else:
                        log.warning("%s", error)
                    break
                sent.add(f"{chat}:{index}")
                self.problem = None
        self._progress.pop(key, None)
        refused = [failed[c] for c in chats if c in failed]
        if refused:
            raise DeliveryError("; ".join(refused), retryable=False)
