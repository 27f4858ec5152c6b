"""Telegram's wire rules the fake Bot API applies, and what it records of each call.

Kept apart from ``telegram_api.py`` (the server) so tests can check a text the way Telegram would
without starting anything: ``check_html(text)`` → (error or None, the text a user sees).
"""

from __future__ import annotations

import html.parser
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_TEXT", "ApiCall", "SentMessage", "check_html", "utf16_len"]

MAX_TEXT = 4096
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str  # as sent (HTML source when parse_mode is HTML)
    parse_mode: str | None
    disable_notification: bool
    reply_markup: dict[str, Any] | None
    edits: list[str] = field(default_factory=list)

    @property
    def current(self) -> str:
        return self.edits[-1] if self.edits else self.text

    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(k.get("text", ""), k.get("callback_data", "")) for row in rows for k in row]


class _EntityChecker(html.parser.HTMLParser):
    """Telegram's HTML rules, as far as a message can break them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(text: str) -> tuple[str | None, str]:
    """(error or None, the text a user sees) for a message sent with parse_mode HTML."""
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is None:
        # html.parser is lenient with a lone "<" or "&"; Telegram is not.
        checker.error = _bare_markup(text)
    return checker.error, "".join(checker.text)


def _bare_markup(text: str) -> str | None:
    index = 0
    while (index := text.find("<", index)) != -1:
        nxt = text[index + 1 : index + 2]
        if not (nxt.isalpha() or nxt == "/"):
            return f"Unexpected character after '<' at byte offset {index}"
        index += 1
    index = 0
    while (index := text.find("&", index)) != -1:
        end = text.find(";", index)
        name = text[index + 1 : end] if end != -1 else ""
        if end == -1 or not name or not (name.isalnum() or name.startswith("#")):
            return f"Unsupported HTML entity at byte offset {index}"
        index += 1
    return None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
