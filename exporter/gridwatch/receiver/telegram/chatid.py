"""``/chatid``: the one command answered in any chat, with that chat's id and nothing else.

A new user needs the id for ``chat_ids`` before the bot will talk to them. The answer carries no
data of the house and runs no other command, so answering strangers gives nothing away; a rate
limit (per chat and overall) keeps the bot from being used to send messages in bulk.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

PER_CHAT_SECONDS = 30.0  # one answer per chat in this window
GLOBAL_PER_MINUTE = 20  # answers to all chats together


class ChatIdLimiter:
    """Whether a ``/chatid`` answer may go out now: per chat and in total."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        per_chat_seconds: float = PER_CHAT_SECONDS,
        per_minute: int = GLOBAL_PER_MINUTE,
    ) -> None:
        self._clock = clock
        self._per_chat = per_chat_seconds
        self._per_minute = per_minute
        self._last: dict[int, float] = {}
        self._recent: deque[float] = deque()

    def allow(self, chat_id: int) -> bool:
        now = self._clock()
        while self._recent and now - self._recent[0] >= 60.0:
            self._recent.popleft()
        last = self._last.get(chat_id)
        if last is not None and now - last < self._per_chat:
            return False
        if len(self._recent) >= self._per_minute:
            return False
        self._recent.append(now)
        self._last[chat_id] = now
        if len(self._last) > 10_000:  # bounded memory whatever the number of strangers
            self._last = {c: t for c, t in self._last.items() if now - t < self._per_chat}
        return True


def text(chat_id: int) -> str:
    """The whole answer: the id, in a form that copies cleanly (no markup, no data)."""
    return f"chat_id: {chat_id}"


def handler(
    limiter: ChatIdLimiter,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or not limiter.allow(chat.id):
            return  # over the limit: silence, as for any other stranger's message
        await context.bot.send_message(chat.id, text(chat.id))

    return answer
