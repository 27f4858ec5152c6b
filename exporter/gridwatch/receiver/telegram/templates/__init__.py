"""Per-language texts of the notifications and the bot, as plain-text templates.

Templates are plain text with ``{name}`` fields (alert labels, annotations, numbers); the result
is HTML-escaped as a whole, so neither a translator nor an alert annotation can break Telegram's
HTML. Markup (bold titles, italics) is added by the code that arranges the lines.

Alert texts are looked up as ``alert.<alertname>.firing`` / ``.resolved`` (and an optional
``.advice``); an alert without its own texts uses ``alert.generic.*`` with its summary annotation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gridwatch.receiver.telegram.config import Language
from gridwatch.receiver.telegram.markup import esc
from gridwatch.receiver.telegram.templates import en, sv, uk

_SPACES = re.compile(r" {2,}")
LANGUAGES: dict[Language, Mapping[str, str]] = {"en": en.TEXTS, "uk": uk.TEXTS, "sv": sv.TEXTS}


class _Blank(dict[str, object]):
    """Fields a template names but an alert does not carry are left empty, not an error."""

    def __missing__(self, key: str) -> object:
        return ""


class Catalog:
    def __init__(self, language: Language) -> None:
        self.language = language
        self._texts = {**en.TEXTS, **LANGUAGES[language]}  # English fills any gap

    def has(self, key: str) -> bool:
        return key in self._texts

    def plain(self, key: str, /, **values: object) -> str:
        """The filled-in template, unescaped: for button labels and pop-up answers."""
        text = self._texts[key].format_map(_Blank(values))
        # An empty field leaves a double space or a dangling separator: tidy each line.
        return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))

    def t(self, key: str, /, **values: object) -> str:
        """The filled-in template, HTML-escaped: safe to put into a message."""
        return esc(self.plain(key, **values))

    def number(self, value: float, digits: int = 1) -> str:
        text = f"{value:,.{digits}f}".replace(",", " ")
        return text.replace(".", self._texts["decimal_point"])

    def duration(self, seconds: float) -> str:
        minutes = round(seconds / 60)
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        if days:
            return self.plain("duration.dh", d=days, h=hours)
        if hours and mins:
            return self.plain("duration.hm", h=hours, m=mins)
        if hours:
            return self.plain("duration.h", h=hours)
        return self.plain("duration.m", m=mins)
