"""``TelegramBot``: python-telegram-bot wiring of the commands — long polling, the chat
allow-list, inline "Refresh" buttons.

Only the configured chats are answered; from any other chat a command gets no answer at all
(not even "not allowed": a stranger learns nothing, and the bot cannot be used to spam).
Telegram being unreachable at start is retried in the background with backoff, so the receiver
keeps delivering alerts; a token Telegram rejects stops the bot with one error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from gridwatch.core.tasks import cancel_and_wait
from gridwatch.receiver.config import ReceiverConfig
from gridwatch.receiver.ports import PlugActions
from gridwatch.receiver.telegram.chatid import ChatIdLimiter
from gridwatch.receiver.telegram.chatid import handler as chatid_handler
from gridwatch.receiver.telegram.client import protect_secret, redact, requests
from gridwatch.receiver.telegram.commands import COMMANDS, REFRESHABLE, TEXTS, render
from gridwatch.receiver.telegram.context import Context
from gridwatch.receiver.telegram.markup import split_message
from gridwatch.receiver.telegram.override_cmd import Override, override_text
from gridwatch.receiver.telegram.queries import Peers
from gridwatch.receiver.telegram.templates import Catalog

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
AnyApp = Application[Any, Any, Any, Any, Any, Any]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
_BACKOFF_MAX = 60.0


class TelegramBot:
    def __init__(
        self,
        receiver: ReceiverConfig,
        plugs: PlugActions | None,
        *,
        tz: ZoneInfo | str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if receiver.telegram is None:
            raise ValueError("receiver.telegram is not configured")
        self.config = receiver.telegram
        zone = self.config.timezone or tz or "UTC"
        self.ctx = Context(
            catalog=Catalog(self.config.language),
            peers=Peers(receiver, self.config.query_timeout),
            plugs=plugs,
            tz=zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone),
            clock=clock,
        )
        self.allowed = filters.Chat(chat_id=self.config.chat_ids)
        # Set by the receiver when scheduled loads are configured (receiver/scheduled.py).
        self.override: Override | None = None
        self.plug_names: list[str] = (
            [p.name for p in receiver.tuya.plugs] if receiver.tuya is not None else []
        )
        self.chatid_limiter = ChatIdLimiter()
        self.polling = asyncio.Event()  # set while getUpdates runs (tests wait for it)
        self._app: AnyApp | None = None
        self._task: asyncio.Task[None] | None = None
        self._poll_error: str | None = None
        self._backoff_initial = 1.0

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Returns at once; connecting (and retrying) runs in the background."""
        if self.config.commands and self._task is None:
            self._task = asyncio.create_task(self._connect(), name="telegram-bot")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._app is not None:
            await _shutdown(self._app)
            self._app = None
        self.polling.clear()
        await self.ctx.peers.close()

    async def _connect(self) -> None:
        delay = self._backoff_initial
        while True:
            app = self._build()
            try:
                await app.initialize()
                await self._set_commands(app)
                assert app.updater is not None
                await app.updater.start_polling(
                    timeout=int(self.config.poll_timeout),
                    drop_pending_updates=True,  # commands sent while we were away are stale
                    allowed_updates=["message", "callback_query"],
                    error_callback=self._on_poll_error,
                )
                await app.start()
            except InvalidToken as exc:
                await _shutdown(app)
                log.error("Telegram bot stopped: %s", redact(exc.message))
                return
            except TelegramError as exc:
                await _shutdown(app)
                self._note_poll_error(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            self._app = app
            self.polling.set()
            log.info(
                "Telegram bot @%s answers %d chat(s)", app.bot.username, len(self.allowed.chat_ids)
            )
            return

    def _build(self) -> AnyApp:
        token = self.config.resolved_token()
        protect_secret(token)
        app: AnyApp = (
            Application.builder()
            .token(token)
            .base_url(self.config.bot_base_url)
            .base_file_url(f"{self.config.api_base_url}/file/bot")
            .request(requests(self.config))
            .get_updates_request(requests(self.config))
            .build()
        )
        new_messages = self.allowed & filters.UpdateType.MESSAGE  # an edit is not a new command
        app.add_handler(TypeHandler(Update, self._on_any_update), group=-1)
        if self.config.chatid:  # any chat, before the allow-list: the id and nothing else
            app.add_handler(
                CommandHandler(
                    "chatid",
                    chatid_handler(self.chatid_limiter),
                    filters=filters.UpdateType.MESSAGE,
                )
            )
        for name in TEXTS:
            app.add_handler(CommandHandler(name, self._command(name), filters=new_messages))
        app.add_handler(MessageHandler(new_messages & filters.COMMAND, self._on_unknown))
        app.add_handler(CallbackQueryHandler(self._on_refresh, pattern=r"^refresh:"))
        app.add_error_handler(self._on_error)
        return app

    async def _set_commands(self, app: AnyApp) -> None:
        commands = [BotCommand(n, self.ctx.catalog.plain(f"help.{n}")) for n in COMMANDS]
        try:
            await app.bot.set_my_commands(commands)
        except TelegramError as exc:  # only the menu in the chat is missing: go on
            log.warning("Telegram setMyCommands failed: %s", redact(exc.message))

    # -- handlers ---------------------------------------------------------------------------------

    def keyboard(self, command: str) -> InlineKeyboardMarkup | None:
        if command not in REFRESHABLE:
            return None
        label = self.ctx.catalog.plain("button.refresh")
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=f"refresh:{command}")]]
        )

    def _command(self, name: str) -> Handler:
        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat = update.effective_chat
            if chat is None:
                return
            if name == "plugs" and context.args:  # /plugs NAME on|off [2h]: an override
                user = update.effective_user
                by = user.username or user.first_name if user is not None else str(chat.id)
                text = "\n".join(
                    override_text(self.ctx, context.args, self.override, self.plug_names, by)
                )
                await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)
                return
            parts = split_message(await render(self.ctx, name))
            for index, text in enumerate(parts):
                last = index == len(parts) - 1
                await context.bot.send_message(
                    chat.id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=self.keyboard(name) if last else None,
                    link_preview_options=NO_PREVIEW,
                )

        return answer

    async def _on_unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            text = self.ctx.t("unknown_command")
            await context.bot.send_message(
                update.effective_chat.id, text, parse_mode=ParseMode.HTML
            )

    async def _on_refresh(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None:
            return
        if query.message.chat.id not in self.allowed.chat_ids:
            return  # a button of a chat that is no longer allowed: no answer, as for commands
        command = (query.data or "").removeprefix("refresh:")
        if command not in REFRESHABLE:
            await query.answer()
            return
        catalog = self.ctx.catalog
        try:
            text = split_message(await render(self.ctx, command))[0]
            await query.edit_message_text(
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=self.keyboard(command),
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                await query.answer(catalog.plain("refresh.unchanged"))
                return
            log.warning("Telegram refresh of /%s failed: %s", command, redact(exc.message))
            await query.answer(catalog.plain("refresh.failed"), show_alert=True)
            return
        await query.answer(catalog.plain("refresh.updated"))

    async def _on_any_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._poll_error is not None:
            log.info("Telegram reachable again")
            self._poll_error = None

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("Telegram bot: handling an update failed: %s", redact(repr(context.error)))

    def _on_poll_error(self, exc: TelegramError) -> None:
        self._note_poll_error(exc)

    def _note_poll_error(self, exc: TelegramError) -> None:
        """Logged when it starts or changes, not on every retry of the long poll."""
        message = redact(exc.message)
        if message != self._poll_error:
            log.warning("Telegram not reachable for the bot: %s", message)
            self._poll_error = message


async def _shutdown(app: AnyApp) -> None:
    with contextlib.suppress(TelegramError, RuntimeError):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
