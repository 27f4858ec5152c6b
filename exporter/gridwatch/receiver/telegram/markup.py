"""Telegram HTML: escaping, the few tags we use, and splitting into messages Telegram accepts.

Every piece of text that is not our own markup goes through ``esc``: a raw ``<`` or ``&`` in an
annotation or a device name makes Telegram reject the whole message ("can't parse entities").
A tag may span lines (a multi-line summary in ``<b>``), so a split closes the tags still open at
the end of a part and opens them again at the start of the next: every part is valid on its own.
"""

from __future__ import annotations

import html
import re

# Telegram counts message length in UTF-16 code units after entity parsing; counting the raw
# HTML that way is stricter, so a part that passes here always passes there.
MAX_MESSAGE = 4096
_TAG_OR_ENTITY = re.compile(r"<[^>]*>|&[#A-Za-z0-9]+;")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")
# Room kept in each part for the closing and re-opening tags a split adds.
_TAG_RESERVE = 256


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def b(text: str) -> str:
    """Bold; ``text`` is already escaped."""
    return f"<b>{text}</b>"


def i(text: str) -> str:
    return f"<i>{text}</i>"


def code(text: str) -> str:
    return f"<code>{text}</code>"


def utf16_len(text: str) -> int:
    # surrogatepass: a lone surrogate counts as the one unit Telegram would count, never raises
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Parts of at most ``limit`` UTF-16 units, cut at line boundaries; blank edges trimmed.

    Tags open across a cut are closed at its end and re-opened after it. A single line longer
    than the limit loses its tags and is cut between words (never inside an ``&amp;``-style
    entity), so each piece still parses.
    """
    room = max(limit - _TAG_RESERVE, limit // 2)
    parts: list[str] = []
    carried: list[tuple[str, str]] = []  # (name, opening tag) open at the end of the last part
    for raw in _split_lines(text, room):
        part, carried = _balance(raw, carried)
        if utf16_len(part) > limit:  # absurdly deep nesting: give up the markup, keep the text
            part = _TAG.sub("", part)
        if _TAG.sub("", part).strip():
            parts.append(part)
    return parts


def _balance(part: str, carried: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """``part`` with the carried tags re-opened, stray end tags dropped and open ones closed;
    and the tags still open at its end."""
    stack = list(carried)
    out = ["".join(tag for _, tag in carried)]
    index = 0
    for match in _TAG.finditer(part):
        out.append(part[index : match.start()])
        index = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if not closing:
            stack.append((name, match.group(0)))
            out.append(match.group(0))
        elif any(open_name == name for open_name, _ in stack):
            while stack:  # close what was opened inside it too, as a browser would
                open_name, _ = stack.pop()
                out.append(f"</{open_name}>")
                if open_name == name:
                    break
        # an end tag with nothing open is dropped: Telegram rejects it
    out.append(part[index:])
    out.extend(f"</{name}>" for name, _ in reversed(stack))
    return "".join(out), stack


def _split_lines(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _lines_within(text.strip("\n").split("\n"), limit):
        extra = utf16_len(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current).strip("\n"))
            current, size = [], 0
            extra = utf16_len(line)
            if not line.strip():
                continue  # a blank line opening a new part says nothing
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current).strip("\n"))
    return [p for p in parts if p.strip()]


def _lines_within(lines: list[str], limit: int) -> list[str]:
    result: list[str] = []
    for line in lines:
        if utf16_len(line) <= limit:
            result.append(line)
        else:
            result.extend(_cut_long_line(_TAG_OR_ENTITY.sub(_keep_entities, line), limit))
    return result


def _keep_entities(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if token.startswith("&") else ""


def _cut_long_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while utf16_len(line) > limit:
        cut = _safe_cut(line, limit)
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    if line:
        pieces.append(line)
    return pieces


def _safe_cut(line: str, limit: int) -> int:
    """The longest prefix within ``limit`` that ends at a space, else anywhere outside an entity."""
    end = 0
    units = 0
    for index, char in enumerate(line):
        units += utf16_len(char)
        if units > limit:
            break
        end = index + 1
    space = line.rfind(" ", 0, end)
    if space > limit // 2:
        return space
    amp = line.rfind("&", 0, end)
    if amp != -1 and ";" not in line[amp:end]:
        return amp  # do not cut &amp; in half
    return end
