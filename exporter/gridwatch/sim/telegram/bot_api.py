"""A fake Telegram Bot API on loopback, for tests of the notifier, the bot and the receiver.

Point python-telegram-bot at it with ``base_url=f"{api.url}/bot"`` (gridwatch:
``receiver.telegram.api_base_url: api.url``); Alertmanager's native ``telegram_configs`` use
``api_url: api.url``. It speaks the real wire format: POST (form-encoded as PTB sends it, or JSON
as Alertmanager does) to ``/bot<token>/<method>``, answers ``{"ok": true, "result": …}`` and
errors as Telegram words them. It checks what Telegram checks and tests rely on: the token,
HTML entities (a raw ``<`` is "can't parse entities"), the 4096-character limit, "message is not
modified".

Small API::

    async with FakeBotApi() as api:
        api.token                       # a valid-looking token the server accepts
        api.sent                        # every sendMessage that succeeded, in order
        api.texts(chat_id)              # the texts a chat received (edits applied)
        api.calls                       # every request: method, params, HTTP status
        api.fail("sendMessage", 429, retry_after=3)   # next call(s) fail like that
        api.answer_delay = 0.15                      # sendMessage answers late (delivered first)
        api.heal()                                   # … and no more
        await api.go_down() / await api.come_up()    # connection refused, then back
        api.user_message(chat_id, "/status")         # an update for getUpdates
        api.press(chat_id, message_id, "refresh:status")   # a callback_query update
        await api.wait_for(lambda: ..., "what")      # poll a condition
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gridwatch.sim.polling import wait_until
from gridwatch.sim.service import WebService
from gridwatch.sim.telegram.wire import MAX_TEXT, ApiCall, SentMessage, check_html, utf16_len

__all__ = ["ApiCall", "FakeBotApi", "SentMessage", "check_html"]

BOT_ID = 7000000001
TOKEN = f"{BOT_ID}:AAFakeTokenForTestsOnly_0123456789ab"


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int


class FakeBotApi(WebService):
    """Serves one bot on ``127.0.0.1``; every call is recorded in ``calls``."""

    peer = "the fake Bot API"

    def __init__(
        self,
        token: str = TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "gridwatch_test_bot",
        max_poll_seconds: float = 2.0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.token = token
        self.username = username
        # Long polls are cut short so a bot under test stops quickly.
        self.max_poll_seconds = max_poll_seconds
        # Seconds sendMessage takes to answer after the message was delivered (a slow link): the
        # window in which a client that dies has sent a message without knowing it.
        self.answer_delay = 0.0
        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.answers: list[dict[str, Any]] = []  # answerCallbackQuery params
        self.commands: list[dict[str, Any]] = []  # what setMyCommands set
        self._failures: list[_Failure] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()

    # -- control --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's ``base_url`` wants; it appends the token."""
        return f"{self.url}/bot"

    def fail(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, if given) fail with ``status``;
        429 carries ``parameters.retry_after``."""
        default = {
            400: "Bad Request: chat not found",
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, "Error")
        self._failures.append(
            _Failure(method, status, description or default, retry_after, chat_id, times)
        )

    def heal(self) -> None:
        """Forget the failures ``fail`` queued that have not happened yet."""
        self._failures.clear()

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def texts(self, chat_id: int) -> list[str]:
        return [m.current for m in self.sent if m.chat_id == chat_id]

    def chats(self) -> set[int]:
        return {m.chat_id for m in self.sent}

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                return sent
        raise KeyError((chat_id, message_id))

    def user_message(
        self, chat_id: int, text: str, *, user_id: int | None = None, username: str = "user"
    ) -> int:
        """Queue a message from a user for getUpdates; commands get their bot_command entity."""
        entities = []
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            entities.append({"type": "bot_command", "offset": 0, "length": length})
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id, username),
            "from": self._user(user_id or abs(chat_id), username),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        return self._push({"message": message})

    def press(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None) -> str:
        """Queue a callback_query: a user pressed an inline button of a message we sent."""
        sent = next(
            (m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id), None
        )
        text = sent.current if sent else ""
        query_id = str(next(self._callback_ids))
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id or abs(chat_id), "user"),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": self._chat(chat_id, "user"),
                        "from": self._bot_user(),
                        "text": text,
                    },
                }
            }
        )
        return query_id

    async def wait_for(
        self, predicate: Callable[[], bool], what: str = "condition", timeout: float = 20.0
    ) -> None:
        """Wait until ``predicate()`` holds (a generous limit that only guards against hangs)."""
        await wait_until(predicate, what=f"fake Bot API: {what}", timeout=timeout, every=0.02)

    # -- lifecycle --------------------------------------------------------------------------------

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/bot{token}/{method}", self._handle)

    async def close(self) -> None:
        self._new_update.set()  # release long polls
        await super().close()

    async def go_down(self) -> None:
        """Stop listening: clients get "connection refused" until ``come_up``."""
        await self.close()

    async def come_up(self) -> None:
        await self.start()

    # -- the API ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = ApiCall(method, params)
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            return self._error(call, 401, "Unauthorized")
        failure = self._take_failure(method, params)
        if failure is not None:
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return self._error(call, failure.status, failure.description, extra)
        handler = getattr(self, "_api_" + _snake(method), None)
        if handler is None:
            return self._error(call, 404, "Not Found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            return self._error(call, exc.status, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        elif request.can_read_body:
            params.update(await request.post())
        return params

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.chat_id is not None and _int(params.get("chat_id")) != failure.chat_id:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    def _error(
        self, call: ApiCall, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        call.status = status
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _api_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True, "supports_inline_queries": False}

    async def _api_delete_webhook(self, params: dict[str, Any]) -> bool:
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _api_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands", "[]")
        self.commands = json.loads(commands) if isinstance(commands, str) else commands
        return True

    async def _api_get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands

    async def _api_delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands = []
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset")) or 0
        # Telegram forgets updates below the offset: they were confirmed.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        wait = min(float(params.get("timeout") or 0), self.max_poll_seconds)
        deadline = time.monotonic() + wait
        while not self._updates and self._runner is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                break
        limit = _int(params.get("limit")) or 100
        return self._updates[:limit]

    async def _api_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        self._check_text(text, parse_mode)
        markup = _json(params.get("reply_markup"))
        sent = SentMessage(
            chat_id,
            next(self._message_ids),
            text,
            parse_mode,
            _bool(params.get("disable_notification")),
            markup,
        )
        self.sent.append(sent)
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return self._message_json(sent)

    async def _api_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        message_id = _int(params.get("message_id"))
        try:
            sent = self.message(chat_id or 0, message_id or 0)
        except KeyError:
            raise _ApiError(400, "Bad Request: message to edit not found") from None
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode"))
        markup = _json(params.get("reply_markup"))
        if text == sent.current and markup == sent.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        sent.edits.append(text)
        sent.reply_markup = markup
        return self._message_json(sent)

    async def _api_answer_callback_query(self, params: dict[str, Any]) -> bool:
        self.answers.append(params)
        return True

    def _check_text(self, text: str, parse_mode: object) -> None:
        visible = text
        if parse_mode == "HTML":
            error, visible = check_html(text)
            if error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}")
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")

    # -- JSON shapes ------------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "gridwatch", "username": self.username}

    @staticmethod
    def _user(user_id: int, username: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": username, "username": username}

    @staticmethod
    def _chat(chat_id: int, username: str) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "home"}
        return {"id": chat_id, "type": "private", "first_name": username, "username": username}

    def _message_json(self, sent: SentMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat(sent.chat_id, "user"),
            "from": self._bot_user(),
            "text": check_html(sent.current)[1] if sent.parse_mode == "HTML" else sent.current,
        }
        if sent.reply_markup:
            body["reply_markup"] = sent.reply_markup
        return body


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _snake(method: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in method)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _bool(value: object) -> bool:
    return str(value).lower() in {"true", "1"}


def _json(value: object) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return value
    parsed = json.loads(str(value))
    return parsed if isinstance(parsed, dict) else None
